/**
 * The real `sluice` binary: upload progress under a pseudo-terminal (util-linux `script`) is
 * drawn as bars with throughput and ETA, and as plain lines when stderr is a pipe; an upload
 * killed part way resumes without sending again the segments already stored.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { send, Session } from '../../conformance/replayer';

const ROOT = resolve(__dirname, '../../..');
const BIN = join(ROOT, 'bin', 'sluice.js');
const hasScript = spawnSync('script', ['--version']).status === 0;

let cluster: TestCluster;
let dir: string;
let token: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  cluster = await startCluster();
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-tty-'));
  token = (await new Session(cluster.url).login('test:tester')).token;
  env = { ...process.env, ST_AUTH: `${cluster.url}/auth/v1.0`, ST_USER: 'test:tester', ST_KEY: 'testing', OS_AUTH_TOKEN: '', OS_STORAGE_URL: '' };
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the binary to completion; stdout and stderr together when under `script`. */
function runBinary(args: string[], opts: { tty: boolean }): Promise<{ code: number | null; out: string; err: string }> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = opts.tty ? spawn('script', ['-qfec', quoted, '/dev/null'], { env: { ...env, COLUMNS: '120' } }) : spawn(process.execPath, [BIN, ...args], { env });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((r) => child.on('close', (code) => r({ code, out, err })));
}

describe('upload progress', () => {
  it.skipIf(!hasScript)('draws bars with throughput and ETA on a terminal, plain lines on a pipe', async () => {
    const file = join(dir, 'six.bin');
    writeFileSync(file, randomBytes(6 * 1024 * 1024));
    const tty = await runBinary(['upload', 'prog', file, '--object-name', 'six.bin', '-S', '1M', '--segment-threads', '1'], { tty: true });
    expect(tty.code, tty.out).toBe(0);
    // cli-progress redraws in place: cursor movement and line clearing, a bar, a percentage, the
    // rate and an ETA; then the finished object's line.
    expect(tty.out).toMatch(/\x1b\[/);
    expect(tty.out).toMatch(/six\.bin\s+\|[█░=\- ]+\| \d+% [\d.]+ (B|KiB|MiB)\/6\.0 MiB [\d.]+ (B|KiB|MiB)\/s ETA /);
    expect(tty.out).toMatch(/six\.bin \(6\.0 MiB in [\d.]+ s, [\d.]+ (KiB|MiB|GiB)\/s\)/);

    const piped = await runBinary(['upload', 'prog', file, '--object-name', 'six-again.bin', '-S', '1M'], { tty: false });
    expect(piped.code, piped.err).toBe(0);
    expect(piped.err).not.toMatch(/\x1b\[/);
    expect(piped.err.trim()).toMatch(/^six-again\.bin \(6\.0 MiB in [\d.]+ s, [\d.]+ (KiB|MiB|GiB)\/s\)$/);
    expect(piped.out).toBe('');
  });
});

describe('resuming an interrupted upload', () => {
  it('skips the segments a killed upload stored, and the object round-trips', async () => {
    const body = randomBytes(40 * 1024 * 1024);
    const file = join(dir, 'forty.bin');
    writeFileSync(file, body);
    const args = ['upload', 'resume', file, '--object-name', 'forty.bin', '-S', '1M', '--segment-threads', '1'];
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    // Kill it once a few segments are stored: well before the manifest.
    let stored = 0;
    for (let i = 0; i < 600 && stored < 4; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const list = await send(cluster.url, 'GET', '/v1/AUTH_test/resume_segments?format=json', { 'X-Auth-Token': token });
      stored = list.status === 200 ? (JSON.parse(list.body.toString()) as unknown[]).length : 0;
    }
    child.kill('SIGKILL');
    await exited;
    expect(stored).toBeGreaterThanOrEqual(4);
    expect((await send(cluster.url, 'HEAD', '/v1/AUTH_test/resume/forty.bin', { 'X-Auth-Token': token })).status).toBe(404);
    const list = await send(cluster.url, 'GET', '/v1/AUTH_test/resume_segments?format=json', { 'X-Auth-Token': token });
    const before = (JSON.parse(list.body.toString()) as unknown[]).length;

    const again = await runBinary([...args, '--json'], { tty: false });
    expect(again.code, again.err).toBe(0);
    const [r] = JSON.parse(again.out) as { segmentsUploaded: number; segmentsSkipped: number; largeObject: string }[];
    // A segment cut off mid-body by the kill is not stored (no 201), so it is sent again.
    expect(r!.segmentsSkipped).toBeGreaterThanOrEqual(before - 1);
    expect(r!.segmentsSkipped + r!.segmentsUploaded).toBe(40);
    expect(r!.largeObject).toBe('slo');
    const got = await send(cluster.url, 'GET', '/v1/AUTH_test/resume/forty.bin', { 'X-Auth-Token': token });
    expect(createHash('sha256').update(got.body).digest('hex')).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
  });
});
