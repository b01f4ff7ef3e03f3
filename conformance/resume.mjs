// Runs the README's subscription snippet (the first ```js block of its
// "### Subscriptions" section) as written, with the stock graphql-ws
// client: only its URL is pointed at the gateway under test, Node gets a
// WebSocket, and what it logs is printed as one JSON line per call.
// Runs until killed.
//
//   node resume.mjs ws://127.0.0.1:8000/graphql cgw_...
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error('usage: node resume.mjs WS_URL API_KEY');
  process.exit(2);
}
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('### Subscriptions'));
const snippet = section.slice(section.indexOf('```js\n') + 6, section.indexOf('```\n', section.indexOf('```js\n') + 6));
if (!snippet.includes('createClient')) {
  console.error('no graphql-ws snippet in the README');
  process.exit(2);
}
const preamble = `
import WebSocket from 'ws';
globalThis.WebSocket = WebSocket;
const KEY = ${JSON.stringify(key)};
console.log = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
console.error = (value) => process.stdout.write(JSON.stringify({ error: String(value?.reason ?? value) }) + '\\n');
`;
// Here, so that its imports resolve to conformance/node_modules.
const module = new URL(`./.readme-subscription-${process.pid}.mjs`, import.meta.url);
writeFileSync(module, preamble + snippet.replaceAll('ws://127.0.0.1:8000/graphql', url));
try {
  await import(pathToFileURL(module.pathname).href);
} finally {
  unlinkSync(module);
}
