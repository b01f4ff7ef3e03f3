// Runs graphql-codegen with the README's own config (the ```ts block of
// "### Trusted documents" that holds a CodegenConfig), over this
// repository's schema and a few documents as an app writes them, in
// OUT_DIR (inside conformance/, so its imports resolve here). Prints one
// JSON line: the manifest's path and whether UUIDs came out typed.
//
//   node codegen.mjs OUT_DIR
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node codegen.mjs OUT_DIR');
  process.exit(2);
}
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('### Trusted documents'));
const blocks = section.split('```ts\n').slice(1).map((block) => block.slice(0, block.indexOf('```')));
const config = blocks.find((block) => block.includes('CodegenConfig'));
if (!config) {
  console.error('no codegen config in the README');
  process.exit(2);
}
mkdirSync(join(out, 'src'), { recursive: true });
writeFileSync(join(out, 'codegen.ts'), config);
copyFileSync(new URL('../schema.graphql', import.meta.url), join(out, 'schema.graphql'));
writeFileSync(
  join(out, 'src', 'app.ts'),
  `import { graphql } from "./gql";
export const Inbox = graphql(\`query Inbox { chats(pageSize: 5) { items { id title owner { name } } } }\`);
export const Live = graphql(\`subscription Live { chatEvents { kind chat { id title } } }\`);
export const Create = graphql(\`mutation Create($input: CreateChatInput!) { createChat(input: $input) { id } }\`);
`,
);
const bin = new URL('./node_modules/.bin/graphql-codegen', import.meta.url).pathname;
execFileSync(bin, ['--config', 'codegen.ts', '--silent'], { cwd: out, stdio: ['ignore', 'ignore', 'inherit'] });
const types = readFileSync(join(out, 'src', 'gql', 'graphql.ts'), 'utf8');
console.log(
  JSON.stringify({
    manifest: join(out, 'src', 'gql', 'persisted-documents.json'),
    uuidTyped: /\bid: string\b/.test(types) && !/\bid: (any|unknown)\b/.test(types),
  }),
);
