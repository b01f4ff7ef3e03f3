// A subscription load client: opens SOCKETS graphql-transport-ws sockets,
// spread over the replicas' URLs, each following one chat of CHATS
// (`chatEvents(filter: { ids: [chat] })`), then sends RATE postMessage
// mutations per second for SECONDS through MUTATE_URL, cycling over the
// chats, each message naming its number and attempt. A mutation is
// retried until it is acknowledged (so writes go on while the database is
// down); only the acknowledged attempt is expected. Prints one
// JSON object: deliveries against what was expected (every acknowledged
// mutation, once, to every socket following its chat), order breaks per
// socket, and latencies from acknowledgement to receipt.
//
// Settings come as JSON in the CONFIG environment variable:
//   { "urls": [...], "mutateUrl": "...", "key": "cgw_...", "chats": [...],
//     "sockets": 10000, "rate": 100, "seconds": 60, "drainSeconds": 5 }
import WebSocket from 'ws';

const config = JSON.parse(process.env.CONFIG);
const { urls, mutateUrl, key, chats, sockets, rate, seconds } = config;
const drainSeconds = config.drainSeconds ?? 5;

const SUBSCRIBE = `subscription($ids: [UUID!]) {
  chatEvents(filter: { ids: $ids }) { kind message { content } } }`;
const POST = `mutation($id: UUID!, $content: String!) {
  postMessage(input: { chatId: $id, role: OPERATOR, content: $content }) { message { id } } }`;

const now = () => performance.timeOrigin + performance.now();
const log = (message) => process.stderr.write(`[load] ${message}\n`);

// Per mutation number: when it was acknowledged, and who received it when.
const acked = new Map(); // n -> [ack time, acknowledged attempt]
const received = new Map(); // "n attempt" -> [receive times]
const followers = new Map(); // chat index -> sockets following it
const orderBreaks = { count: 0 };
let duplicates = 0;
let closedEarly = 0;
let ready = 0;

function open(index) {
  return new Promise((resolve) => {
    const chat = index % chats.length;
    const socket = new WebSocket(urls[index % urls.length], 'graphql-transport-ws');
    const seen = new Set();
    let last = -1;
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${key}` } }));
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data);
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({
          type: 'subscribe', id: '1', payload: { query: SUBSCRIBE, variables: { ids: [chats[chat]] } },
        }));
        followers.set(chat, (followers.get(chat) ?? 0) + 1);
        ready += 1;
        resolve(socket);
      } else if (message.type === 'next') {
        const content = message.payload?.data?.chatEvents?.message?.content ?? '';
        if (!content.startsWith('load ')) return;
        const write = content.slice(5);
        const n = Number(write.split(' ')[0]);
        if (seen.has(write)) {
          duplicates += 1;
          return;
        }
        seen.add(write);
        // Mutations of one chat are sent one after the other: its events
        // must arrive in that order.
        if (n < last) orderBreaks.count += 1;
        last = n;
        if (!received.has(write)) received.set(write, []);
        received.get(write).push(now());
      }
    });
    socket.on('close', () => {
      closedEarly += 1;
      resolve(null);
    });
    socket.on('error', () => {});
  });
}

async function mutate(n) {
  const chat = n % chats.length;
  for (let attempt = 0; ; attempt++) {
    const content = `load ${n} ${attempt}`;
    const body = JSON.stringify({ query: POST, variables: { id: chats[chat], content } });
    try {
      const response = await fetch(mutateUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body,
      });
      const result = await response.json();
      if (response.ok && !result.errors) {
        acked.set(n, [now(), attempt]);
        return;
      }
    } catch {
      // Not acknowledged: the write may not have committed; send it again.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

log(`opening ${sockets} sockets`);
const opened = [];
for (let i = 0; i < sockets; i += 250) {
  const batch = [];
  for (let j = i; j < Math.min(i + 250, sockets); j++) batch.push(open(j));
  opened.push(...(await Promise.all(batch)));
}
log(`${ready} sockets subscribed`);
await new Promise((r) => setTimeout(r, 2000));
closedEarly = 0;

const started = now();
log(`mutating ${rate}/s for ${seconds} s`);
const pending = [];
// Per chat, one mutation at a time, so its order is the commit order.
const chatBusy = new Map();
let n = 0;
const total = rate * seconds;
await new Promise((resolve) => {
  const timer = setInterval(() => {
    if (n >= total) {
      clearInterval(timer);
      resolve();
      return;
    }
    const mine = n++;
    const chat = mine % chats.length;
    const previous = chatBusy.get(chat) ?? Promise.resolve();
    const next = previous.then(() => mutate(mine));
    chatBusy.set(chat, next);
    pending.push(next);
  }, 1000 / rate);
});
await Promise.all(pending);
const finished = now();
log(`mutations acknowledged; draining ${drainSeconds} s`);
await new Promise((r) => setTimeout(r, drainSeconds * 1000));

let expected = 0;
let delivered = 0;
const latencies = [];
const receipts = [];
for (const [m, [ackTime, attempt]] of acked) {
  const want = followers.get(m % chats.length) ?? 0;
  const got = received.get(`${m} ${attempt}`) ?? [];
  expected += want;
  delivered += Math.min(got.length, want);
  for (const at of got) {
    latencies.push(Math.max(0, at - ackTime));
    receipts.push(at);
  }
}
latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : null);
for (const socket of opened) socket?.close();
// Exit only once stdout is flushed: a pipe is written asynchronously.
process.stdout.write(`${JSON.stringify({
  sockets: ready,
  mutations: acked.size,
  expected,
  delivered,
  duplicates,
  orderBreaks: orderBreaks.count,
  closedEarly,
  p50Ms: pct(0.5),
  p99Ms: pct(0.99),
  maxMs: latencies.length ? latencies[latencies.length - 1] : null,
  startedAt: started,
  finishedAt: finished,
  receipts: config.keepReceipts ? receipts.sort((a, b) => a - b) : undefined,
})}\n`, () => process.exit(0));

