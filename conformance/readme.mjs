// Runs a ```js snippet of README.md as written: the first one under a
// heading, with the README's example addresses replaced by those of the
// gateway under test and a preamble that gives Node a WebSocket and prints
// each console.log call as one JSON line (console.error as {"error"}).
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/// The first ```js block under `heading`.
export function snippet(heading) {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`no "${heading}" section in the README`);
  const section = readme.slice(at);
  const start = section.indexOf('```js\n') + 6;
  return section.slice(start, section.indexOf('```\n', start));
}

/// Runs `code` (a snippet with its replacements made) after `preamble`.
export async function run(code, preamble = '') {
  const full = `
import WebSocket from 'ws';
globalThis.WebSocket = WebSocket;
console.log = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
console.error = (value) => process.stdout.write(JSON.stringify({ error: String(value?.reason ?? value) }) + '\\n');
${preamble}
${code}`;
  // Here, so that its imports resolve to conformance/node_modules.
  const module = new URL(`./.readme-snippet-${process.pid}.mjs`, import.meta.url);
  writeFileSync(module, full);
  try {
    await import(pathToFileURL(module.pathname).href);
  } finally {
    unlinkSync(module);
  }
}
