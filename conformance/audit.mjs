// Runs graphql-http's GraphQL-over-HTTP server audits against a running
// chat-gateway and prints one JSON line of counts; exits 1 on any error or
// warning.
//
//   node audit.mjs http://127.0.0.1:8000/graphql cgw_...
//
// The audits send no credentials, so every request gets the API key added.
import { auditServer } from 'graphql-http';

const [url, apiKey] = process.argv.slice(2);
if (!url || !apiKey) {
  console.error('usage: node audit.mjs GRAPHQL_URL API_KEY');
  process.exit(2);
}

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('x-api-key', apiKey);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    const response = result.response
      ? ` (HTTP ${result.response.status}: ${(await result.response.text()).slice(0, 300)})`
      : '';
    console.error(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}${response}`);
  }
}
console.log(JSON.stringify({ audits: results.length, ...counts }));
process.exit(counts.error + counts.warn > 0 ? 1 : 0);
