// Uses the embedded GraphiQL as a person would, in headless Chromium (the
// system's, Debian's `chromium`): opens the link the demo prints (key in
// the URL fragment), runs the prepared query, reads the result pane, runs
// a subscription through the page's graphql-ws client, then reloads and
// looks through localStorage. Any request that would leave
// loopback is blocked and reported. Prints one JSON line of findings.
//
//   node graphiql.mjs http://127.0.0.1:8000 cgw_... CHANNEL_ID OWNER_ID
import { chromium } from 'playwright-core';

const [base, apiKey, channelId, ownerId] = process.argv.slice(2);
if (!base || !apiKey || !channelId || !ownerId) {
  console.error('usage: node graphiql.mjs BASE_URL API_KEY CHANNEL_ID OWNER_ID');
  process.exit(2);
}
// What the subscription check writes, to have an event to receive.
const createRequest = {
  query: 'mutation($input: CreateChatInput!) { createChat(input: $input) { id } }',
  variables: { input: { channelId, ownerSuperIdentityId: ownerId, title: 'From the browser' } },
};

const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const browser = await chromium.launch({
  executablePath,
  headless: true,
  // Running as root in CI; the page is our own, served on loopback.
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const findings = { external: [], result: null, storage: [], keyStored: null, error: null };
try {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') {
      return route.continue();
    }
    findings.external.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  await page.goto(`${base}/graphql#apiKey=${apiKey}`);
  await page.waitForSelector('.graphiql-execute-button', { timeout: 30000 });
  // The key must be gone from the address bar at once.
  findings.addressBar = page.url();
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    () => document.querySelector('.result-window')?.textContent.includes('totalCount'),
    null,
    { timeout: 30000 },
  );
  findings.result = await page.$eval('.result-window', (el) => el.textContent);
  // A subscription through the page's own graphql-ws client (vendored,
  // offline): subscribe, make a change over HTTP, receive the event.
  findings.subscription = await page.evaluate(
    ({ key, create }) =>
      new Promise((resolve) => {
        const client = graphqlWs.createClient({
          url: `ws://${location.host}/graphql`,
          connectionParams: { Authorization: `Bearer ${key}` },
        });
        const timer = setTimeout(() => resolve({ timeout: true }), 10000);
        const dispose = client.subscribe(
          { query: 'subscription { chatEvents { kind chat { title } } }' },
          {
            next: (value) => {
              clearTimeout(timer);
              dispose();
              resolve(value);
            },
            error: (error) => resolve({ error: String(error && error.reason || error) }),
            complete: () => {},
          },
        );
        setTimeout(
          () =>
            fetch('/graphql', {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
              body: JSON.stringify(create),
            }),
          500,
        );
      }),
    { key: apiKey, create: createRequest },
  );
  const stored = () => page.evaluate(() => Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)]));
  await page.reload();
  await page.waitForSelector('.graphiql-execute-button', { timeout: 30000 });
  findings.storage = await stored();
  findings.keyStored = findings.storage.some(([k, v]) => `${k}${v}`.includes(apiKey));
} catch (error) {
  findings.error = String(error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(findings));
