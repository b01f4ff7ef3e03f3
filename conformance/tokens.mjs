// Runs the README's web-app snippet (the first ```js block of its
// "### Authentication" section) as written, with the stock Apollo Client
// and graphql-ws: its addresses are pointed at the gateway under test and
// at the test's token endpoint, and graphql-ws's connects and closes are
// printed too ({"connected"}, {"closed", "reason"}). Runs until killed.
//
//   node tokens.mjs http://127.0.0.1:8000/graphql http://127.0.0.1:9000/token
import { run, snippet } from './readme.mjs';

const [url, tokenUrl] = process.argv.slice(2);
if (!url || !tokenUrl) {
  console.error('usage: node tokens.mjs GRAPHQL_URL TOKEN_URL');
  process.exit(2);
}
const stock = 'import { createClient } from "graphql-ws";';
let code = snippet('### Authentication');
if (!code.includes(stock) || !code.includes('https://app.example.com/token')) {
  console.error('no web-app snippet in the README');
  process.exit(2);
}
// The stock client, with what happens to its socket printed.
const observed = `import { createClient as stockClient } from "graphql-ws";
const createClient = (options) => stockClient({
  ...options,
  on: {
    connected: () => console.log({ connected: true }),
    closed: (event) => console.log({ closed: event.code, reason: event.reason }),
  },
});`;
code = code
  .replace(stock, observed)
  .replaceAll('https://app.example.com/token', tokenUrl)
  .replaceAll('ws://127.0.0.1:8000/graphql', url.replace('http://', 'ws://'))
  .replaceAll('http://127.0.0.1:8000/graphql', url);
await run(code);
