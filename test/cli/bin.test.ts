/**
 * bin/sluice.js picks the compiled bundle only while it is newer than every source file, so an
 * edited tree never runs stale code, and always where it cannot run the sources (an installed
 * package has no src/ and no tsx). Checked on a copy of bin/ in a scratch tree whose
 * "bundle" and "sources" say which of them ran.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');

describe('bin/sluice.js', () => {
  let root: string;
  const at = (path: string, seconds: number) => utimesSync(join(root, path), seconds, seconds);
  const run = (env: Record<string, string> = {}) =>
    execFileSync(process.execPath, [join(root, 'bin', 'sluice.js'), 'a', 'b'], { env: { ...process.env, SLUICE_FROM_SOURCE: '', ...env }, encoding: 'utf8' });
  /** Status, stdout and stderr, whatever the status. */
  const spawn = (env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(root, 'bin', 'sluice.js'), 'a', 'b'], { env: { ...process.env, SLUICE_FROM_SOURCE: '', ...env }, encoding: 'utf8' });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sluice-bin-'));
    mkdirSync(join(root, 'bin'));
    copyFileSync(join(REPO, 'bin', 'sluice.js'), join(root, 'bin', 'sluice.js'));
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
    writeFileSync(join(root, 'package.json'), '{"type":"module"}');
    mkdirSync(join(root, 'src', 'cli'), { recursive: true });
    mkdirSync(join(root, 'servers', 'object'), { recursive: true });
    // The sources use TypeScript syntax, so they only load through tsx.
    writeFileSync(join(root, 'src', 'cli', 'main.ts'), "export async function run(argv: string[]): Promise<number> { console.log('source', argv.join(' ')); return 3; }\n");
    writeFileSync(join(root, 'servers', 'object', 'server.ts'), 'export const x: number = 1;\n');
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(root, 'dist', 'cli', 'main.mjs'), "export async function run(argv) { console.log('bundle', argv.join(' ')); }\n");
    at('src/cli/main.ts', 1_000_000);
    at('servers/object/server.ts', 1_000_000);
    at('dist/cli/main.mjs', 2_000_000);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('runs the bundle when it is newer than every source', () => {
    expect(run()).toBe('bundle a b\n');
  });

  it('runs the sources when any source is newer, the bundle is missing, or SLUICE_FROM_SOURCE=1', () => {
    at('servers/object/server.ts', 3_000_000);
    expect(() => run()).toThrow(expect.objectContaining({ status: 3, stdout: 'source a b\n' }));
    at('servers/object/server.ts', 1_000_000);
    expect(run()).toBe('bundle a b\n');
    expect(() => run({ SLUICE_FROM_SOURCE: '1' })).toThrow(expect.objectContaining({ status: 3, stdout: 'source a b\n' }));
    writeFileSync(join(root, 'src', 'cli', 'new-file.ts'), '');
    expect(() => run()).toThrow(expect.objectContaining({ status: 3 }));
    rmSync(join(root, 'src', 'cli', 'new-file.ts'));
    rmSync(join(root, 'dist'), { recursive: true });
    expect(() => run()).toThrow(expect.objectContaining({ status: 3, stdout: 'source a b\n' }));
  });

  it('runs the bundle in an installed package, which has no sources', () => {
    rmSync(join(root, 'src'), { recursive: true });
    rmSync(join(root, 'servers'), { recursive: true });
    at('dist/cli/main.mjs', 500_000);
    expect(run()).toBe('bundle a b\n');
    expect(spawn({ SLUICE_FROM_SOURCE: '1' })).toMatchObject({ status: 1, stdout: '', stderr: expect.stringContaining('needs src/ and tsx') });
  });

  it('runs the bundle, with a warning when it is older than the sources, when tsx is not installed', () => {
    // node_modules without tsx (a development dependency, absent after `npm install --omit=dev`).
    rmSync(join(root, 'node_modules'));
    mkdirSync(join(root, 'node_modules'));
    expect(spawn()).toMatchObject({ status: 0, stdout: 'bundle a b\n', stderr: '' });
    at('servers/object/server.ts', 3_000_000);
    expect(spawn()).toMatchObject({ status: 0, stdout: 'bundle a b\n', stderr: expect.stringContaining('older than the sources') });
    rmSync(join(root, 'dist'), { recursive: true });
    expect(spawn()).toMatchObject({ status: 1, stdout: '', stderr: expect.stringContaining('npm run build') });
  });
});
