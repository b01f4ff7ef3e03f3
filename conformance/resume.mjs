// Runs the README's subscription snippet (the first ```js block of its
// "### Subscriptions" section) as written, with the stock graphql-ws
// client: only its URL is pointed at the gateway under test. Runs until
// killed.
//
//   node resume.mjs ws://127.0.0.1:8000/graphql cgw_...
import { run, snippet } from './readme.mjs';

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error('usage: node resume.mjs WS_URL API_KEY');
  process.exit(2);
}
const code = snippet('### Subscriptions');
if (!code.includes('createClient')) {
  console.error('no graphql-ws snippet in the README');
  process.exit(2);
}
await run(code.replaceAll('ws://127.0.0.1:8000/graphql', url), `const KEY = ${JSON.stringify(key)};`);
