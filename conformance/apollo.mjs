// A client built on the manifest graphql-codegen wrote (codegen.mjs), as
// the README's trusted-documents recipe has it, against a gateway that
// runs trusted documents only: Apollo Client (persisted-query link,
// InMemoryCache) runs the query by hash and normalises its result; the
// graphql-ws client runs the subscription by id and receives the event of
// a chat created by id over plain fetch. Prints one JSON line.
//
//   node apollo.mjs GRAPHQL_URL API_KEY MANIFEST METRICS_URL CHANNEL_ID OWNER_ID
import { readFileSync } from 'node:fs';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { parse } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, key, manifestPath, metrics, channelId, ownerId] = process.argv.slice(2);
if (!ownerId) {
  console.error('usage: node apollo.mjs GRAPHQL_URL API_KEY MANIFEST METRICS_URL CHANNEL_ID OWNER_ID');
  process.exit(2);
}
// The generated documents: each manifest text parsed, with its hash where
// the client preset puts it.
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const documents = {};
for (const [hash, text] of Object.entries(manifest)) {
  const document = parse(text);
  document.__meta__ = { hash };
  documents[document.definitions[0].name.value] = document;
}
const hashOf = (name) => documents[name].__meta__.hash;
const findings = { warnings: [] };
const warn = console.warn;
console.warn = (...args) => findings.warnings.push(args.map(String).join(' '));
console.error = console.warn;
try {
  const cache = new InMemoryCache();
  const apollo = new ApolloClient({
    cache,
    link: new PersistedQueryLink({ generateHash: (document) => document.__meta__.hash }).concat(
      new HttpLink({ uri: url, headers: { authorization: `Bearer ${key}` } }),
    ),
  });
  const result = await apollo.query({ query: documents.Inbox });
  findings.inbox = result.data;
  findings.normalised = Object.keys(cache.extract());

  const attached = async (n) => {
    for (;;) {
      const text = await (await fetch(`${metrics}/metrics`)).text();
      if (Number(/^graphql_subscriptions_active (\d+)$/m.exec(text)?.[1]) === n) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const client = createClient({
    url: url.replace('http://', 'ws://'),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${key}` },
  });
  // Events as they come (the fixture chat's creation may come first).
  const events = [];
  client.subscribe(
    { query: '', documentId: hashOf('Live'), variables: {} },
    {
      next: (value) => events.push(value),
      error: (error) => events.push({ error: String(error?.reason ?? JSON.stringify(error)) }),
      complete: () => {},
    },
  );
  await attached(1);
  const created = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      documentId: hashOf('Create'),
      variables: { input: { channelId, ownerSuperIdentityId: ownerId } },
    }),
  });
  findings.created = await created.json();
  const id = findings.created.data?.createChat?.id;
  const deadline = Date.now() + 30000;
  for (;;) {
    findings.event = events.find((e) => e.error || e.data?.chatEvents?.chat?.id === id);
    if (findings.event || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await client.dispose();
} catch (error) {
  findings.error = String(error?.stack ?? error);
}
console.warn = warn;
console.log(JSON.stringify(findings));
process.exit(0);
