/**
 * `npm run client:big -- [--size 1G] [--segment-size 64M] [--kill-after 4]`: the CLI's
 * segmented upload of a large generated file, end to end, with the CLI's memory measured.
 *
 * 1. A file of `--size` pseudo-random bytes (AES-CTR keystream: fast, incompressible) is written.
 * 2. `sluice upload` (the real binary, segment threads 2) is killed with SIGKILL once
 *    `--kill-after` segments are stored.
 * 3. The same command again: it must skip those segments (their MD5 matches) and finish.
 * 4. `sluice download` writes the object back; its SHA-256 must be the file's.
 * Each CLI process's resident memory is sampled from /proc every 50 ms; the peak is printed
 * per phase beside the node baseline (an idle `sluice help`), so "flat" is a figure: the peak
 * must not grow with the object. Prints a markdown table; exits 1 on any failed check.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { startCluster } from '../src/testing/index';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'sluice.js');

function size(text: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text);
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase());
}

const { values } = parseArgs({ options: { size: { type: 'string', default: '1G' }, 'segment-size': { type: 'string', default: '64M' }, 'kill-after': { type: 'string', default: '4' } } });
const total = size(values.size);
const segmentSize = size(values['segment-size']);
const killAfter = Number(values['kill-after']);
const segments = Math.ceil(total / segmentSize);

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

interface Run {
  code: number | null;
  out: string;
  peakMiB: number;
  seconds: number;
}

/** Runs the binary, sampling its RSS; `stopWhen` may end it early (SIGKILL). */
async function sluice(args: string[], env: NodeJS.ProcessEnv, stopWhen?: () => Promise<boolean>): Promise<Run> {
  const started = Date.now();
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(child.pid!))), 50);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  if (stopWhen) {
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      if (await stopWhen()) {
        child.kill('SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const code = await exited;
  clearInterval(sampler);
  return { code, out, peakMiB: peak / 1024, seconds: (Date.now() - started) / 1000 };
}

async function writeGenerated(path: string, bytes: number): Promise<string> {
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16));
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1024 * 1024);
  async function* source() {
    for (let left = bytes; left > 0; left -= chunk.length) {
      const block = cipher.update(left >= chunk.length ? chunk : chunk.subarray(0, left));
      hash.update(block);
      yield block;
    }
  }
  await pipeline(source, createWriteStream(path));
  return hash.digest('hex');
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), hash);
  return hash.digest('hex');
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-client-big-'));
const cluster = await startCluster();
const failures: string[] = [];
try {
  const env = { ...process.env, ST_AUTH: `${cluster.url}/auth/v1.0`, ST_USER: 'test:tester', ST_KEY: 'testing', OS_AUTH_TOKEN: '', OS_STORAGE_URL: '' };
  const auth = await request(`${cluster.url}/auth/v1.0`, { headers: { 'x-auth-user': 'test:tester', 'x-auth-key': 'testing' } });
  await auth.body.dump();
  const token = String(auth.headers['x-auth-token']);
  const storageUrl = String(auth.headers['x-storage-url']);
  const storedSegments = async () => {
    const r = await request(`${storageUrl}/big_segments?format=json`, { headers: { 'x-auth-token': token } });
    if (r.statusCode !== 200) return (await r.body.dump(), 0);
    return ((await r.body.json()) as unknown[]).length;
  };

  const file = join(dir, 'big.bin');
  const t0 = Date.now();
  const digest = await writeGenerated(file, total);
  console.error(`generated ${total} bytes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const baseline = await sluice(['help'], env);
  const upload = ['upload', 'big', file, '--object-name', 'big.bin', '-S', String(segmentSize), '--segment-threads', '2', '--json'];
  const killed = await sluice(upload, env, async () => (await storedSegments()) >= killAfter);
  const storedAtKill = await storedSegments();
  if (killed.code !== null && killed.code === 0) failures.push('the first upload finished before it could be killed: use a larger --size');
  const resumed = await sluice(upload, env);
  let skipped = -1;
  let uploaded = -1;
  if (resumed.code !== 0) failures.push(`resumed upload exited ${resumed.code}`);
  else {
    const [r] = JSON.parse(resumed.out) as { segmentsSkipped: number; segmentsUploaded: number }[];
    skipped = r!.segmentsSkipped;
    uploaded = r!.segmentsUploaded;
    // A segment cut off by the kill mid-body was never stored, so at most it is sent again.
    if (skipped < storedAtKill - 2 || skipped + uploaded !== segments) failures.push(`resume: ${skipped} skipped + ${uploaded} uploaded, ${storedAtKill} stored at the kill, ${segments} segments`);
  }
  rmSync(join(dir, 'copy.bin'), { force: true });
  const download = await sluice(['download', 'big', 'big.bin', '-o', join(dir, 'copy.bin')], env);
  if (download.code !== 0) failures.push(`download exited ${download.code}`);
  const same = download.code === 0 && (await sha256File(join(dir, 'copy.bin'))) === digest;
  if (!same) failures.push('the downloaded object differs from the file');
  // Flat: streaming, not holding segments: a fixed margin over node's own footprint, whatever the sizes.
  const flatLimit = baseline.peakMiB + 96;
  for (const [name, run] of [['upload (resumed)', resumed], ['download', download]] as const) {
    if (run.peakMiB > flatLimit) failures.push(`${name}: peak RSS ${run.peakMiB.toFixed(0)} MiB over ${flatLimit.toFixed(0)} MiB`);
  }

  const mib = total / 1024 / 1024;
  console.log(`| phase | seconds | MiB/s | CLI peak RSS (MiB) | notes |`);
  console.log(`|---|---:|---:|---:|---|`);
  console.log(`| \`sluice help\` (baseline) | ${baseline.seconds.toFixed(1)} | | ${baseline.peakMiB.toFixed(0)} | |`);
  console.log(`| upload, killed | ${killed.seconds.toFixed(1)} | | ${killed.peakMiB.toFixed(0)} | SIGKILL with ${storedAtKill} of ${segments} segments stored |`);
  console.log(`| upload, resumed | ${resumed.seconds.toFixed(1)} | ${((uploaded * segmentSize) / 1024 / 1024 / resumed.seconds).toFixed(0)} | ${resumed.peakMiB.toFixed(0)} | ${skipped} segments skipped, ${uploaded} sent |`);
  console.log(`| download | ${download.seconds.toFixed(1)} | ${(mib / download.seconds).toFixed(0)} | ${download.peakMiB.toFixed(0)} | SHA-256 ${same ? 'matches' : 'DIFFERS'} |`);
  console.log(`\n${mib} MiB in ${segments} segments of ${segmentSize / 1024 / 1024} MiB; flat means a peak under ${flatLimit.toFixed(0)} MiB (the baseline + 96 MiB, whatever the object's size).`);
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
if (failures.length) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}
console.error('PASS');
