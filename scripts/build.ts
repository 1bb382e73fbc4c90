/**
 * Builds dist/ with esbuild (packages left external) and tsc. `npm run build` (also run by
 * `npm install` on a clone) writes:
 *
 * - dist/cli/main.mjs: the command line in one module, which bin/sluice.js runs while it is
 *   newer than every source file. Compiled code skips tsx's per-module loading and the `__name`
 *   wrapper it puts on every closure (to keep function names); in the proxy that was a fifth of
 *   the CPU per request (docs/benchmarks.md). `npm start` builds only this (`--cli`).
 * - dist/lib/: the package's entry points (`sluice`, `sluice/testing`, `sluice/servers`, `sluice/client`) as ES
 *   modules in one build with shared chunks, so every entry sees the same module state (a
 *   filter registered through `sluice` is there for the cluster `sluice/testing` starts).
 * - dist/types/: their declarations, emitted by tsc and with extensions added to relative
 *   specifiers for consumers on `moduleResolution: nodenext` (scripts/dts-specifiers.ts).
 */
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { fixDeclarationTree } from './dts-specifiers';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** dist/cli/ keeps `../../package.json` (how src/cli/main.ts finds the version) at the root. */
export const CLI_BUNDLE = join(ROOT, 'dist', 'cli', 'main.mjs');
export const LIB_DIR = join(ROOT, 'dist', 'lib');
export const TYPES_DIR = join(ROOT, 'dist', 'types');

/** The package's entry points: output name under dist/lib (without .js) to source. */
export const LIB_ENTRIES: Record<string, string> = {
  index: 'src/index.ts',
  'testing/index': 'src/testing/index.ts',
  'servers/index': 'servers/index.ts',
  'client/index': 'src/client/index.ts',
};

const COMMON = { absWorkingDir: ROOT, bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' } as const;

/** Bundles `entry` (relative to the repository) into `outfile`, with a linked source map. */
export async function buildBundle(entry: string, outfile: string): Promise<void> {
  const result = await build({ ...COMMON, entryPoints: [entry], outfile, sourcemap: 'linked', write: false });
  // Written beside and renamed, so a process starting meanwhile never loads half a file.
  mkdirSync(dirname(outfile), { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
}

/** Builds into a scratch directory beside `dir`, then puts it in place of `dir` (no stale files). */
async function replaceDir(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    await fill(tmp);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function buildLibrary(): Promise<void> {
  await replaceDir(LIB_DIR, async (outdir) => {
    // Maps for stack traces (node --enable-source-maps) without a copy of the sources, which
    // would double the package's size.
    await build({ ...COMMON, entryPoints: LIB_ENTRIES, outdir, splitting: true, chunkNames: 'chunks/[name]-[hash]', sourcemap: 'linked', sourcesContent: false });
  });
}

export async function buildDeclarations(): Promise<void> {
  const tsc = fileURLToPath(new URL('bin/tsc', import.meta.resolve('typescript/package.json')));
  await replaceDir(TYPES_DIR, async (outDir) => {
    try {
      await promisify(execFile)(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { cwd: ROOT });
    } catch (err) {
      const { code, stdout = '', stderr = '' } = err as { code?: unknown; stdout?: string; stderr?: string };
      // Exit status 2: type errors, but every file emitted. Type checking is `npm test`'s job
      // (the esbuild bundles do not check either), so a tree mid-edit still builds.
      if (code !== 2) throw new Error(`tsc (declarations) failed:\n${stdout}${stderr}`);
      process.stderr.write(`warning: declarations emitted despite type errors:\n${stdout}${stderr}`);
    }
    fixDeclarationTree(outDir);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cliOnly = process.argv.includes('--cli');
  await Promise.all([buildBundle('src/cli/main.ts', CLI_BUNDLE), ...(cliOnly ? [] : [buildLibrary(), buildDeclarations()])]);
}
