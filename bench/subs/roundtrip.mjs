// Sequential round trips to one gateway: COUNT `{ __typename }` operations
// one after another over one WebSocket (graphql-transport-ws: subscribe,
// wait for `complete`), then COUNT POSTs one after another over one
// keep-alive HTTP connection. Prints one JSON line of milliseconds.
//
//   node roundtrip.mjs http://127.0.0.1:18080/graphql cgw_... 200
import http from 'node:http';
import WebSocket from 'ws';

const [url, key, countText] = process.argv.slice(2);
const count = Number(countText || 200);

const summary = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { total: times.reduce((a, b) => a + b, 0), p50: at(0.5), p99: at(0.99) };
};

const socket = new WebSocket(url.replace('http://', 'ws://'), 'graphql-transport-ws');
// Messages in arrival order, handed to whoever waits: two may come in one
// read, before the second wait begins.
const arrived = [];
const waiting = [];
socket.on('message', (data) => {
  const parsed = JSON.parse(data);
  if (waiting.length) waiting.shift()(parsed);
  else arrived.push(parsed);
});
const message = () =>
  new Promise((resolve) => (arrived.length ? resolve(arrived.shift()) : waiting.push(resolve)));
await new Promise((resolve) => socket.once('open', resolve));
socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${key}` } }));
await message();
const ws = [];
for (let i = 0; i < count; i += 1) {
  const started = performance.now();
  socket.send(JSON.stringify({ type: 'subscribe', id: String(i), payload: { query: '{ __typename }' } }));
  await message(); // next
  await message(); // complete
  ws.push(performance.now() - started);
}
socket.close();

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify({ query: '{ __typename }' });
const post = () =>
  new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    }, (response) => {
      response.resume();
      response.on('end', resolve);
    });
    request.on('error', reject);
    request.end(body);
  });
const posts = [];
for (let i = 0; i < count; i += 1) {
  const started = performance.now();
  await post();
  posts.push(performance.now() - started);
}
agent.destroy();
console.log(JSON.stringify({ count, ws: summary(ws), http: summary(posts) }));
