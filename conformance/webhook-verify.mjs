// Verifies webhook requests the gateway sent with the reference Standard
// Webhooks library. Reads one JSON object per line on stdin, `{ "secret",
// "headers": { "webhook-id", ... }, "body" }` (the body exactly as
// received), and prints for each `{ "ok": true, "payload" }` or
// `{ "ok": false, "error" }`, in order.
//
//   node webhook-verify.mjs < requests.jsonl
import { createInterface } from 'node:readline';
import { Webhook } from 'standardwebhooks';

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { secret, headers, body } = JSON.parse(line);
  try {
    const payload = new Webhook(secret).verify(body, headers);
    console.log(JSON.stringify({ ok: true, payload }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, error: String(error.message ?? error) }));
  }
}
