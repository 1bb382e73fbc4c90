#!/usr/bin/env node
// sluice's command line. It runs the compiled bundle (dist/cli/main.mjs, `npm run build`) when
// that is newer than every source file, and otherwise the TypeScript sources through tsx's
// loader, so an edited tree never runs stale code and `node bin/sluice.js` needs no build step.
// SLUICE_FROM_SOURCE=1 forces the sources. An installed package has no sources (and no tsx, a
// development dependency), so there the bundle always runs.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const bundle = new URL('dist/cli/main.mjs', root);
const sourceMain = new URL('src/cli/main.ts', root);

function mtimeMs(url) {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
}

/** True when some .ts file under src/ or servers/ is newer than the bundle (or it is missing). */
function bundleIsStale() {
  const built = mtimeMs(bundle);
  if (built === undefined) return true;
  for (const dir of ['src/', 'servers/']) {
    if (!existsSync(new URL(dir, root))) continue;
    for (const name of readdirSync(new URL(dir, root), { recursive: true })) {
      if (!name.endsWith('.ts')) continue;
      const changed = mtimeMs(new URL(dir + name, root));
      if (changed === undefined || changed > built) return true;
    }
  }
  return false;
}

function tsxAvailable() {
  try {
    import.meta.resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

function fromSource() {
  const hasSources = existsSync(sourceMain);
  if (process.env.SLUICE_FROM_SOURCE === '1') {
    if (!hasSources || !tsxAvailable()) {
      console.error('sluice: SLUICE_FROM_SOURCE=1 needs src/ and tsx (a development dependency)');
      process.exit(1);
    }
    return true;
  }
  if (!hasSources || !bundleIsStale()) return false;
  if (tsxAvailable()) return true;
  if (mtimeMs(bundle) === undefined) {
    console.error('sluice: dist/cli/main.mjs is missing and tsx is not installed to run the sources; run `npm run build`');
    process.exit(1);
  }
  console.error('sluice: warning: running dist/cli/main.mjs, older than the sources (tsx is not installed; `npm run build` updates it)');
  return false;
}

let main;
if (fromSource()) {
  const { register } = await import('tsx/esm/api');
  register();
  main = await import(sourceMain.href);
} else {
  // Stack traces name the TypeScript lines (the bundle carries a source map).
  process.setSourceMapsEnabled(true);
  main = await import(bundle.href);
}
const code = await main.run(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
