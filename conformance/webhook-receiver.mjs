// Runs the README's Node.js webhook receiver (the ```js block of its
// "### Webhooks" section) as written; it prints one JSON line per verified
// delivery. Takes WEBHOOK_SECRET and PORT from the environment. Runs until
// killed.
//
//   WEBHOOK_SECRET=whsec_... PORT=3000 node webhook-receiver.mjs
import { run, snippet } from './readme.mjs';

await run(snippet('### Webhooks'));
