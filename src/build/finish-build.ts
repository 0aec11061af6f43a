/**
 * Runs after every incremental `tsc`: makes the CLI executable (so `npx enclave` works after any
 * build) and removes compiled files whose source is gone (a deleted test must not keep running).
 */
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../paths.js';

const root = packageRoot();
const dist = join(root, 'dist');

function compiledFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return compiledFiles(path);
    return /\.js(\.map)?$/.test(entry.name) ? [path] : [];
  });
}

let pruned = 0;
for (const file of compiledFiles(dist)) {
  const source = join(root, relative(dist, file).replace(/\.js(\.map)?$/, ''));
  if (!existsSync(`${source}.ts`) && !existsSync(`${source}.js`)) {
    rmSync(file);
    pruned += 1;
  }
}
chmodSync(join(dist, 'src', 'cli', 'main.js'), 0o755);
if (pruned) console.log(`removed ${pruned} compiled files whose source is gone`);
