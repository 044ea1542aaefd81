#!/usr/bin/env node
// `npx referloop`, `npm start`: runs the CLI compiled into dist/ at install (`npm run build`, which
// `npm install` and `npm ci` run as `prepare`), since compiling the TypeScript at every start costs
// seconds. When dist/ is missing or older than the source (a pull or an edit since the last build),
// the source runs through tsx instead: slower to start, never stale.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Written by `npm run build` once everything else in dist/ is in place.
const buildStamp = join(root, 'dist/build-stamp');

function mtimeMs(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest change among the files the build reads. */
function newestSourceChange() {
  let newest = 0;
  for (const folder of ['src', 'connectors', 'migrations']) {
    for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

const built = mtimeMs(buildStamp);
if (built !== undefined && built >= newestSourceChange()) {
  await import(pathToFileURL(join(root, 'dist/src/cli.js')).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./cli.ts');
}
