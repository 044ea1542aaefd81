#!/usr/bin/env node
// Runs the TypeScript CLI straight from source through tsx, so `npx referloop` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
