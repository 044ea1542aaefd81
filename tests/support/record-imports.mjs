/**
 * `NODE_OPTIONS=--import=<this file>` with `RECORD_IMPORTS_TO=<file>`: every module the process
 * resolves through `import` or `import()` (its URL) is appended to that file, one a line. For
 * tests that prove what a command does not load. CommonJS `require()`s inside packages are not
 * seen, but the package's entry, imported by our ESM code, is.
 */
import { register } from 'node:module';

register(new URL('./record-imports-hooks.mjs', import.meta.url), { data: { file: process.env.RECORD_IMPORTS_TO } });
