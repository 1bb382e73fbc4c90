/**
 * Compiles TypeScript entry points into single ES modules with esbuild (packages left external).
 * `npm run build` (also run by `npm install` and `npm start`) writes dist/cli/main.mjs, which
 * bin/sluice.js runs while it is newer than every source file. Compiled code skips tsx's
 * per-module loading and the `__name` wrapper it puts on every closure (to keep function
 * names); in the proxy that was a fifth of the CPU per request (docs/benchmarks.md).
 */
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** dist/cli/ keeps `../../package.json` (how src/cli/main.ts finds the version) at the root. */
export const CLI_BUNDLE = join(ROOT, 'dist', 'cli', 'main.mjs');

/** Bundles `entry` (relative to the repository) into `outfile`, with a linked source map. */
export async function buildBundle(entry: string, outfile: string): Promise<void> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    write: false,
    logLevel: 'warning',
  });
  // Written beside and renamed, so a process starting meanwhile never loads half a file.
  mkdirSync(dirname(outfile), { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildBundle('src/cli/main.ts', CLI_BUNDLE);
}
