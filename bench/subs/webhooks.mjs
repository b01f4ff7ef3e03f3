// The webhook benchmark's Node.js side (bench/webhooks runs it).
//
//   node webhooks.mjs receive PORT
//     A fast receiver: answers 204 at once, and keeps for each delivery
//     the lag from its event's timestamp (its write) to its receipt.
//     GET /stats gives { count, distinct, p50Ms, p99Ms, maxMs, firstAt,
//     lastAt }; POST /reset forgets everything.
//   CONFIG='{"url","key","chats":[...],"rate","seconds"}' node webhooks.mjs write
//     postMessage at a steady rate over the chats, then prints
//     { "sent", "failed", "seconds" }.
import { createServer } from 'node:http';

const [mode, port] = process.argv.slice(2);

/// Milliseconds since the epoch of an RFC 3339 time with microseconds.
function micros(text) {
  const [, whole, fraction = ''] = text.match(/^([^.+Z]+)(?:\.(\d+))?/);
  return Date.parse(`${whole}Z`) + Number(`0.${fraction || '0'}`) * 1000;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

if (mode === 'receive') {
  let lags = [];
  let ids = new Set();
  let firstAt = 0;
  let lastAt = 0;
  createServer((req, res) => {
    if (req.method === 'GET') {
      const sorted = [...lags].sort((a, b) => a - b);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        count: lags.length, distinct: ids.size, firstAt, lastAt,
        p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? 0,
      }));
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/reset') {
        lags = [];
        ids = new Set();
        firstAt = lastAt = 0;
      } else {
        const now = Date.now();
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        lags.push(now - micros(body.timestamp));
        ids.add(req.headers['webhook-id']);
        firstAt ||= now;
        lastAt = now;
      }
      res.writeHead(204).end();
    });
  }).listen(Number(port), '127.0.0.1');
} else if (mode === 'write') {
  const { url, key, chats, rate, seconds } = JSON.parse(process.env.CONFIG);
  const query = 'mutation($input: PostMessageInput!) { postMessage(input: $input) { message { id } } }';
  let sent = 0;
  let failed = 0;
  const inFlight = new Set();
  const started = Date.now();
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    // Steady: the i-th write starts at i / rate seconds.
    const due = started + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const chatId = chats[i % chats.length];
    const request = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables: { input: { chatId, role: 'USER', content: `m${i}` } } }),
    })
      .then(async (response) => {
        const body = await response.json();
        if (body.errors) failed++;
        else sent++;
      })
      .catch(() => failed++)
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  console.log(JSON.stringify({ sent, failed, seconds: (Date.now() - started) / 1000 }));
} else {
  console.error('usage: node webhooks.mjs receive PORT | write');
  process.exit(2);
}
