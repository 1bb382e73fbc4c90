#!/usr/bin/env node
// sluice's command line. It runs the compiled bundle (dist/cli/main.mjs, `npm run build`) when
// that is newer than every source file, and otherwise the TypeScript sources through tsx's
// loader, so an edited tree never runs stale code and `node bin/sluice.js` needs no build step.
// SLUICE_FROM_SOURCE=1 forces the sources.
import { readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const bundle = new URL('dist/cli/main.mjs', root);

function mtimeMs(url) {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
}

function bundleIsFresh() {
  if (process.env.SLUICE_FROM_SOURCE === '1') return false;
  const built = mtimeMs(bundle);
  if (built === undefined) return false;
  for (const dir of ['src/', 'servers/']) {
    for (const name of readdirSync(new URL(dir, root), { recursive: true })) {
      if (!name.endsWith('.ts')) continue;
      const changed = mtimeMs(new URL(dir + name, root));
      if (changed === undefined || changed > built) return false;
    }
  }
  return true;
}

let main;
if (bundleIsFresh()) {
  // Stack traces name the TypeScript lines (the bundle carries a source map).
  process.setSourceMapsEnabled(true);
  main = await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  main = await import(new URL('src/cli/main.ts', root).href);
}
const code = await main.run(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
