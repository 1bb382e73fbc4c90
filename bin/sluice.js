#!/usr/bin/env node
// sluice's command line: TypeScript sources run through tsx's ESM loader, registered here so
// `node bin/sluice.js` and `npx sluice` work without a build step.
import { register } from 'tsx/esm/api';

register();
const { run } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
const code = await run(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
