/**
 * The package as a user gets it: `npm run build`, `npm pack`, and the tarball installed into a
 * scratch project (from the npm cache, so offline once the repository's own install has run).
 * There plain `node` runs test/package/fixture/smoke.mjs, the repository's tsc type-checks
 * fixture/check-types.ts as a `nodenext` + `strict` consumer, and the installed bin runs.
 *
 * The install skips install scripts and takes better-sqlite3's compiled addon from this
 * repository's node_modules when the versions match: compiling it again from source takes a
 * couple of minutes on a small machine and tests better-sqlite3, not sluice. Otherwise (no
 * addon here, or another version) it is rebuilt as a user's install would.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');
const FIXTURE = join(import.meta.dirname, 'fixture');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = promisify(execFile);

interface PackResult {
  filename: string;
  size: number;
  files: { path: string }[];
}

const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;

describe('the packed package, installed elsewhere', () => {
  let work: string;
  let consumer: string;
  let packed: PackResult;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sluice-package-'));
    consumer = join(work, 'consumer');
    await run(NPM, ['run', 'build'], { cwd: REPO });
    // Built just above; prepare would only build again (and print into the JSON).
    const { stdout } = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO });
    const [result] = JSON.parse(stdout) as PackResult[];
    if (!result) throw new Error(`npm pack printed no package: ${stdout}`);
    packed = result;

    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    for (const file of ['smoke.mjs', 'check-types.ts']) copyFileSync(join(FIXTURE, file), join(consumer, file));
    const typesNode = `@types/node@${version(join(REPO, 'node_modules', '@types', 'node'))}`;
    await run(NPM, ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(work, packed.filename), typesNode], { cwd: consumer });

    const ours = join(REPO, 'node_modules', 'better-sqlite3');
    const theirs = join(consumer, 'node_modules', 'better-sqlite3');
    const addon = join('build', 'Release', 'better_sqlite3.node');
    if (existsSync(join(ours, addon)) && version(ours) === version(theirs)) {
      mkdirSync(join(theirs, 'build', 'Release'), { recursive: true });
      copyFileSync(join(ours, addon), join(theirs, addon));
    } else {
      await run(NPM, ['rebuild', 'better-sqlite3'], { cwd: consumer });
    }
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the built code, the bin and the README, and no sources, tests or data', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'bin/sluice.js',
        'dist/cli/main.mjs',
        'dist/lib/index.js',
        'dist/lib/testing/index.js',
        'dist/lib/servers/index.js',
        'dist/lib/client/index.js',
        'dist/types/src/index.d.ts',
        'dist/types/src/testing/index.d.ts',
        'dist/types/servers/index.d.ts',
        'dist/types/src/client/index.d.ts',
      ]),
    );
    const stray = paths.filter((p) => !/^(package\.json|README\.md|LICENSE[^/]*|NOTICE[^/]*|bin\/[^/]+\.js|dist\/(cli|lib|types)\/.+)$/.test(p));
    expect(stray).toEqual([]);
    // Only what runs: about 1.6 MB now, two thirds of it the CLI bundle and its source map;
    // sluice/client adds about 22 kB. A stray data file or test fixture would show here.
    expect(packed.size).toBeLessThan(1_700_000);
  });

  it('runs under plain node: a cluster from sluice/testing stores and serves an object, then the process exits', async () => {
    const { stdout } = await run(process.execPath, ['smoke.mjs'], { cwd: consumer, timeout: 60_000, killSignal: 'SIGKILL' }).catch((err: { killed?: boolean; stderr?: string }) => {
      throw new Error(err.killed ? 'smoke.mjs did not exit within 60 s after stopping the cluster' : `smoke.mjs failed:\n${err.stderr ?? String(err)}`);
    });
    expect(stdout.trim()).toBe('ok');
  }, 90_000);

  it('type-checks a consumer on moduleResolution nodenext with --strict', async () => {
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = ['--module', 'nodenext', '--moduleResolution', 'nodenext', '--strict', '--noEmit', '--types', 'node', 'check-types.ts'];
    const result = await run(process.execPath, [tsc, ...args], { cwd: consumer }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err) }));
    expect(result.stdout).toBe('');
  }, 60_000);

  it('installs a bin that runs the bundle (no sources, no tsx)', async () => {
    const { stdout } = await run(join(consumer, 'node_modules', '.bin', 'sluice'), ['--version'], { cwd: consumer });
    expect(stdout).toBe(`sluice ${version(REPO)}\n`);
  });
});
