// Uses the embedded GraphiQL as a person would, in headless Chromium (the
// system's, Debian's `chromium`): opens the link the demo prints (key in
// the URL fragment), runs the prepared query, reads the result pane, runs
// a subscription through the page's graphql-ws client, then reloads and
// looks through localStorage; then does the same with a token in the link
// (#token=). Any request that would leave loopback is blocked and
// reported. Prints one JSON line of findings.
//
//   node graphiql.mjs http://127.0.0.1:8000 cgw_... CHANNEL_ID OWNER_ID METRICS_URL TOKEN
import { chromium } from 'playwright-core';

const [base, apiKey, channelId, ownerId, metrics, token] = process.argv.slice(2);
if (!base || !apiKey || !channelId || !ownerId || !metrics || !token) {
  console.error('usage: node graphiql.mjs BASE_URL API_KEY CHANNEL_ID OWNER_ID METRICS_URL TOKEN');
  process.exit(2);
}
// Until the gateway has `n` subscriptions attached: only a write after
// that reaches them.
const attached = async (n) => {
  for (;;) {
    const text = await (await fetch(`${metrics}/metrics`)).text();
    if (Number(/^graphql_subscriptions_active (\d+)$/m.exec(text)?.[1]) === n) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};
// What the subscription checks write, to have an event to receive.
const create = (title) =>
  fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      query: 'mutation($input: CreateChatInput!) { createChat(input: $input) { id } }',
      variables: { input: { channelId, ownerSuperIdentityId: ownerId, title } },
    }),
  });

const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const browser = await chromium.launch({
  executablePath,
  headless: true,
  // Running as root in CI; the page is our own, served on loopback.
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const findings = { external: [], result: null, storage: [], keyStored: null, error: null };
try {
  // A browser context whose requests beyond loopback are blocked and noted.
  const offline = async () => {
    const context = await browser.newContext();
    await context.route('**/*', (route) => {
      const host = new URL(route.request().url()).hostname;
      if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') {
        return route.continue();
      }
      findings.external.push(route.request().url());
      return route.abort();
    });
    return context;
  };
  const context = await offline();
  const page = await context.newPage();
  await page.addInitScript((key) => { window.testKey = key; }, apiKey);
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
  const subscribed = page.evaluate(
    () =>
      new Promise((resolve) => {
        const client = graphqlWs.createClient({
          url: `ws://${location.host}/graphql`,
          connectionParams: { Authorization: `Bearer ${window.testKey}` },
        });
        const timer = setTimeout(() => resolve({ timeout: true }), 30000);
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
      }),
  );
  await attached(1);
  await create('From the browser');
  findings.subscription = await subscribed;
  await attached(0);
  // The same through GraphiQL's own editor: a new tab, a subscription
  // typed and run, a change made, its event in the result pane.
  await page.click('.graphiql-tab-add');
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('subscription { chatEvents { kind chat { title } } }');
  await page.click('.graphiql-execute-button');
  await attached(1);
  await create('Typed in GraphiQL');
  await page.waitForFunction(
    () => document.querySelector('.result-window')?.textContent.includes('Typed in GraphiQL'),
    null,
    { timeout: 30000 },
  );
  findings.editorSubscription = await page.$eval('.result-window', (el) => el.textContent);
  const stored = () => page.evaluate(() => Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)]));
  await page.reload();
  await page.waitForSelector('.graphiql-execute-button', { timeout: 30000 });
  findings.storage = await stored();
  findings.keyStored = findings.storage.some(([k, v]) => `${k}${v}`.includes(apiKey));
  // A subscription run from GraphiQL's editor with a key the gateway
  // refuses: the result pane shows why, and the page does not retry.
  const refused = await (await offline()).newPage();
  let sockets = 0;
  refused.on('websocket', () => { sockets += 1; });
  await refused.goto(`${base}/graphql#apiKey=cgw_refused`);
  await refused.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30000 });
  // As a person would: a new tab, the subscription typed into it.
  await refused.click('.graphiql-tab-add');
  await refused.click('.graphiql-query-editor .CodeMirror');
  await refused.keyboard.press('Control+A');
  await refused.keyboard.type('subscription { chatEvents { kind } }');
  await refused.click('.graphiql-execute-button');
  await refused.waitForFunction(
    () => /4403/.test(document.querySelector('.result-window')?.textContent ?? ''),
    null,
    { timeout: 30000 },
  );
  findings.refusedResult = await refused.$eval('.result-window', (el) => el.textContent);
  findings.refusedSockets = sockets;
  // A token in the link works as the key does, and is not kept either.
  const withToken = await (await offline()).newPage();
  await withToken.goto(`${base}/graphql#token=${token}`);
  await withToken.waitForSelector('.graphiql-execute-button', { timeout: 30000 });
  findings.tokenAddressBar = withToken.url();
  await withToken.click('.graphiql-execute-button');
  await withToken.waitForFunction(
    () => document.querySelector('.result-window')?.textContent.includes('totalCount'),
    null,
    { timeout: 30000 },
  );
  findings.tokenResult = await withToken.$eval('.result-window', (el) => el.textContent);
  await withToken.reload();
  await withToken.waitForSelector('.graphiql-execute-button', { timeout: 30000 });
  const tokenStorage = await withToken.evaluate(() => Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)]));
  findings.tokenStored = tokenStorage.some(([k, v]) => `${k}${v}`.includes(token));
} catch (error) {
  findings.error = String(error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(findings));
