/**
 * `sluice <kind>-server --workers N`: N processes share the port (Swift's `workers`), a worker
 * that dies is replaced while the port keeps serving, and SIGTERM stops them all. The real CLI
 * runs in a process group of its own, so every process it forked is found.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killGroup, survivors, withLimit } from './process-group';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'sluice.js');
const LIMIT_MS = 30_000;

let dir: string;
let devices: string;
let swiftDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-server-workers-'));
  devices = join(dir, 'node');
  mkdirSync(join(devices, 'sda'), { recursive: true });
  swiftDir = join(dir, 'etc');
  mkdirSync(swiftDir);
  writeFileSync(join(swiftDir, 'swift.conf'), '[swift-hash]\nswift_hash_path_prefix = p\nswift_hash_path_suffix = s\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The pids of `pid`'s child processes. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

/** Node processes among `pid`'s children (tsx's esbuild service aside): the workers. */
function workersOf(pid: number): number[] {
  return childrenOf(pid).filter((c) => {
    try {
      return !readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('esbuild');
    } catch {
      return false;
    }
  });
}

/** One request on a connection of its own, so the primary hands each to a worker in turn. */
function call(url: string, method: string, path: string, headers: Record<string, string | number> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function until(check: () => boolean, what: string, ms = LIMIT_MS): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Started {
  child: ChildProcess;
  url: string;
  out(): string;
  err(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `sluice object-server --workers 2` in a process group of its own, once it says it listens. */
async function startTwoWorkers(): Promise<Started> {
  const child = spawn(process.execPath, [BIN, 'object-server', '--port', '0', '--devices', devices, '--swift-dir', swiftDir, '--workers', '2'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    await until(() => /listening on \S+ \(2 workers\)/.test(out) || child.exitCode !== null, 'the listening line');
  } catch (e) {
    killGroup(child.pid);
    throw e;
  }
  const url = /listening on (\S+) \(2 workers\)/.exec(out)?.[1];
  if (!url) {
    killGroup(child.pid);
    throw new Error(`no listening line; stdout:\n${out}\nstderr:\n${err}`);
  }
  return { child, url, out: () => out, err: () => err, exited };
}

describe('a storage server with --workers', { timeout: 90_000 }, () => {
  it('serves from N worker processes, replaces one that dies, and stops them all on SIGTERM', async () => {
    const s = await startTwoWorkers();
    const { child, url } = s;
    try {
      // One listening line, from the primary.
      expect(s.out().match(/listening on/g)).toHaveLength(1);
      const before = workersOf(child.pid!);
      expect(before).toHaveLength(2);

      const ts = '1700000000.00000';
      const put = await call(url, 'PUT', '/sda/0/a/c/o', { 'X-Timestamp': ts, 'Content-Type': 'text/plain', 'Content-Length': 5 }, 'hello');
      expect(put.status).toBe(201);
      // Every worker reads what any worker wrote: the files are the state.
      const gets = await Promise.all(Array.from({ length: 8 }, () => call(url, 'GET', '/sda/0/a/c/o')));
      expect(gets.map((g) => [g.status, g.body])).toEqual(Array.from({ length: 8 }, () => [200, 'hello']));

      process.kill(before[0]!, 'SIGKILL');
      await until(() => /worker \d \(pid \d+\) exited \(SIGKILL\); starting another/.test(s.err()), 'the replacement line');
      await until(() => {
        const now = workersOf(child.pid!);
        return now.length === 2 && !now.includes(before[0]!);
      }, 'a second worker again');
      const after = await Promise.all(Array.from({ length: 8 }, () => call(url, 'GET', '/sda/0/a/c/o')));
      expect(after.every((g) => g.status === 200 && g.body === 'hello')).toBe(true);

      process.kill(child.pid!, 'SIGTERM');
      expect(await withLimit(s.exited, 'object-server after SIGTERM', LIMIT_MS)).toEqual({ code: 0, signal: null });
      expect(await survivors(child.pid!)).toEqual([]);
    } finally {
      killGroup(child.pid);
    }
  });

  it('stops cleanly on a Ctrl-C to the whole process group: the workers wait for their primary', async () => {
    const s = await startTwoWorkers();
    try {
      process.kill(-s.child.pid!, 'SIGINT');
      expect(await withLimit(s.exited, 'object-server after SIGINT', LIMIT_MS), s.err()).toEqual({ code: 0, signal: null });
      expect(await survivors(s.child.pid!)).toEqual([]);
      // Each worker drained once, on its primary's word; none was cut short by a second signal.
      expect(s.err()).not.toMatch(/again, exiting now/);
      expect(s.err().match(/SIGTERM, shutting down/g)).toHaveLength(2);
    } finally {
      killGroup(s.child.pid);
    }
  });
});
