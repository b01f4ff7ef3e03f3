// A subscription load client: opens SOCKETS graphql-transport-ws sockets,
// spread over the replicas' URLs, each following one chat
// (`chatEvents(filter: { ids: [chat] })`) of the workspaces' CHATS in turn,
// and WORKSPACE_FOLLOWERS more following a whole workspace each (no
// filter); then sends RATE postMessage mutations per second for SECONDS,
// over the workspaces' chats in turn and the MUTATE_URLS in turn, each
// message naming its number and attempt. A mutation is retried (on the
// next URL) until it is acknowledged, so writes go on while the database
// or a replica is down; only the acknowledged attempt is expected. A
// socket closed under its subscriber reconnects, to the next URL, and
// resumes from the last cursor it received, as a graphql-ws client with
// the README's pattern does. Prints one JSON object: deliveries against
// what was expected (every acknowledged mutation, once, to every
// subscriber following its chat or workspace), duplicates and order
// breaks per subscriber, reconnects, and latencies from acknowledgement
// to receipt.
//
// Settings come as JSON in the CONFIG environment variable:
//   { "urls": [...], "mutateUrls": [...],
//     "workspaces": [{ "key": "cgw_...", "chats": [...] }, ...],
//     "sockets": 1000, "workspaceFollowers": 10, "rate": 100, "seconds": 60,
//     "drainSeconds": 5 }
// (the older shape, "mutateUrl", "key" and "chats", is one workspace).
import WebSocket from 'ws';

const config = JSON.parse(process.env.CONFIG);
const { urls, sockets, rate, seconds } = config;
const mutateUrls = config.mutateUrls ?? [config.mutateUrl];
const workspaces = config.workspaces ?? [{ key: config.key, chats: config.chats }];
const workspaceFollowers = config.workspaceFollowers ?? 0;
const drainSeconds = config.drainSeconds ?? 5;
// Every chat of every workspace, with its workspace's index.
const chats = workspaces.flatMap((w, i) => w.chats.map((id) => ({ id, workspace: i })));

const SUBSCRIBE = `subscription($ids: [UUID!], $after: String) {
  chatEvents(filter: { ids: $ids }, after: $after) { cursor kind message { content } } }`;
const POST = `mutation($id: UUID!, $content: String!) {
  postMessage(input: { chatId: $id, role: OPERATOR, content: $content }) { message { id } } }`;

const now = () => performance.timeOrigin + performance.now();
const log = (message) => process.stderr.write(`[load] ${message}\n`);

// Per mutation number: when it was acknowledged, and who received it when.
const acked = new Map(); // n -> [ack time, acknowledged attempt]
const received = new Map(); // "n attempt" -> [receive times]
const followers = new Map(); // chat index -> subscribers following it
const wholeFollowers = new Map(); // workspace index -> subscribers following it all
const orderBreaks = { count: 0 };
let duplicates = 0;
let closedEarly = 0;
const ended = {};
let lastError = null;
let reconnects = 0;
let ready = 0;
let closing = false;

// One subscriber: chat index `chat`, or null for a whole workspace. Its
// socket is replaced, resuming from its last cursor, whenever it closes
// before the end; what it saw spans its sockets.
function subscriber(index, chat, workspace) {
  const seen = new Set();
  const last = new Map(); // chat id -> last mutation number seen
  let cursor = null;
  let socket = null;
  let first = true;
  const key = workspaces[workspace].key;
  return new Promise((resolve) => {
    const connect = (attempt) => {
      socket = new WebSocket(urls[(index + attempt) % urls.length], 'graphql-transport-ws');
      socket.on('open', () => {
        socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${key}` } }));
      });
      socket.on('message', (data) => {
        const message = JSON.parse(data);
        if (message.type === 'connection_ack') {
          const ids = chat === null ? null : [chats[chat].id];
          socket.send(JSON.stringify({
            type: 'subscribe', id: '1', payload: { query: SUBSCRIBE, variables: { ids, after: cursor } },
          }));
          if (first) {
            first = false;
            if (chat === null) wholeFollowers.set(workspace, (wholeFollowers.get(workspace) ?? 0) + 1);
            else followers.set(chat, (followers.get(chat) ?? 0) + 1);
            ready += 1;
            resolve(() => socket.close());
          }
        } else if (message.type === 'error' || message.type === 'complete') {
          // The server ended the subscription: nothing more will come on it.
          ended[message.type] = (ended[message.type] ?? 0) + 1;
          if (message.type === 'error') lastError = JSON.stringify(message.payload).slice(0, 300);
        } else if (message.type === 'next') {
          const event = message.payload?.data?.chatEvents;
          if (event?.cursor) cursor = event.cursor;
          const content = event?.message?.content ?? '';
          if (!content.startsWith('load ')) return;
          const write = content.slice(5);
          const n = Number(write.split(' ')[0]);
          if (seen.has(write)) {
            duplicates += 1;
            return;
          }
          seen.add(write);
          // Mutations of one chat are sent one after the other: its
          // events must arrive in that order.
          const of = n % chats.length;
          if (n < (last.get(of) ?? -1)) orderBreaks.count += 1;
          last.set(of, n);
          if (!received.has(write)) received.set(write, []);
          received.get(write).push(now());
        }
      });
      socket.on('close', () => {
        if (closing) return;
        if (first) {
          // Refused before it was subscribed (a replica's budget of
          // sockets still in their handshake is full, say): try again, as
          // graphql-ws does, and give up after a while.
          if (attempt >= 20) resolve(null);
          else setTimeout(() => connect(attempt + 1), 200 + Math.random() * 300);
          return;
        }
        closedEarly += 1;
        reconnects += 1;
        setTimeout(() => connect(attempt + 1), 200 + Math.random() * 300);
      });
      socket.on('error', () => {});
    };
    connect(0);
  });
}

async function mutate(n) {
  const chat = chats[n % chats.length];
  const key = workspaces[chat.workspace].key;
  for (let attempt = 0; ; attempt++) {
    const content = `load ${n} ${attempt}`;
    const body = JSON.stringify({ query: POST, variables: { id: chat.id, content } });
    try {
      const response = await fetch(mutateUrls[(n + attempt) % mutateUrls.length], {
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

log(`opening ${sockets} sockets following a chat, ${workspaceFollowers} following a workspace`);
const opened = [];
const all = sockets + workspaceFollowers;
for (let i = 0; i < all; i += 100) {
  const batch = [];
  for (let j = i; j < Math.min(i + 100, all); j++) {
    if (j < sockets) batch.push(subscriber(j, j % chats.length, chats[j % chats.length].workspace));
    else batch.push(subscriber(j, null, (j - sockets) % workspaces.length));
  }
  opened.push(...(await Promise.all(batch)));
}
log(`${ready} sockets subscribed`);
await new Promise((r) => setTimeout(r, 2000));
closedEarly = 0;
reconnects = 0;

const started = now();
log(`mutating ${rate}/s for ${seconds} s`);
const pending = [];
// Per chat, one mutation at a time, so its order is the commit order.
const chatBusy = new Map();
let n = 0;
const total = rate * seconds;
// Paced by the clock, not by the timer's period (which a busy event loop
// stretches): each tick sends what the rate owes by now.
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((now() - started) * rate) / 1000));
    while (n < due) {
      const mine = n++;
      const chat = mine % chats.length;
      const previous = chatBusy.get(chat) ?? Promise.resolve();
      const next = previous.then(() => mutate(mine));
      chatBusy.set(chat, next);
      pending.push(next);
    }
    if (n >= total) {
      clearInterval(timer);
      resolve();
    }
  }, Math.max(1, Math.floor(1000 / rate)));
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
  const chat = m % chats.length;
  const want = (followers.get(chat) ?? 0) + (wholeFollowers.get(chats[chat].workspace) ?? 0);
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
closing = true;
for (const close of opened) close?.();
// Exit only once stdout is flushed: a pipe is written asynchronously.
process.stdout.write(`${JSON.stringify({
  sockets: ready,
  mutations: acked.size,
  expected,
  delivered,
  duplicates,
  orderBreaks: orderBreaks.count,
  closedEarly,
  reconnects,
  ended,
  lastError,
  retriedWrites: [...acked.values()].filter(([, attempt]) => attempt > 0).length,
  p50Ms: pct(0.5),
  p99Ms: pct(0.99),
  maxMs: latencies.length ? latencies[latencies.length - 1] : null,
  startedAt: started,
  finishedAt: finished,
  receipts: config.keepReceipts ? receipts.sort((a, b) => a - b) : undefined,
})}\n`, () => process.exit(0));

