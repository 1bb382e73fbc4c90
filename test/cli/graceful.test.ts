/**
 * Graceful shutdown and reload of the real CLI, run in a process group of its own as
 * startup-failures.test.ts does. SIGTERM: downloads in flight finish intact, new connections are
 * refused (the shared listening socket is closed once every worker stopped taking connections,
 * so a load balancer moves on at once instead of waiting on a proxy that is going away), and the
 * process exits 0 within graceful_shutdown_timeout. SIGHUP: new workers take over under load
 * with no connection error and no non-2xx answer; a new option takes effect; a broken
 * configuration is reported in one line and the running workers keep serving.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyConf } from '../helpers/proxy-conf';
import { killGroup, survivors, withLimit as limit } from './process-group';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'sluice.js');
const START_LIMIT_MS = 30_000;
const OBJECT_BYTES = 20 * 1024 * 1024;
const DOWNLOADS = 8;
/** Each slow download reads this many bytes a second: about 10 s for 20 MB. */
const READ_RATE = 2 * 1024 * 1024;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-graceful-'));
});

afterAll(() => {
  for (const run of running) killGroup(run.pgid);
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  pgid: number;
  stdout(): string;
  stderr(): string;
  /** When `test` first matches stdout (or stderr, with `onStderr`). */
  printed(test: RegExp, onStderr?: boolean): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

const running = new Set<Run>();

function sluice(args: string[]): Run {
  const env = { ...process.env };
  delete env.SLUICE_KEYSTONE_PASSWORD;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  child.stdout!.on('data', (b: Buffer) => ((out += b.toString()), wake()));
  child.stderr!.on('data', (b: Buffer) => ((err += b.toString()), wake()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  const run: Run = {
    child,
    pgid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    printed: (test, onStderr = false) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = test.exec(onStderr ? err : out);
          if (m) return resolve(m);
          waiters.push(check);
        };
        check();
        void exited.then(() => reject(new Error(`exited before printing ${String(test)}; stderr:\n${err}`)));
      }),
    exited,
  };
  running.add(run);
  return run;
}

const withLimit = <T>(p: Promise<T>, what: string, ms = START_LIMIT_MS): Promise<T> => limit(p, what, ms);

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** One request on a connection of its own. */
function fetchOnce(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function login(proxy: string, user: string, key: string): Promise<{ status: number; token?: string; storage?: string }> {
  const r = await fetchOnce(`${proxy}/auth/v1.0`, { headers: { 'X-Auth-User': user, 'X-Auth-Key': key } });
  return { status: r.status, token: r.headers['x-auth-token'] as string | undefined, storage: r.headers['x-storage-url'] as string | undefined };
}

interface Download {
  /** Resolves once some of the body has arrived (the download is in flight). */
  started: Promise<void>;
  done: Promise<{ status: number; bytes: number; md5: string; endedAt: number }>;
  /** Reads the rest at full speed. */
  resume(): void;
}

/** A GET read at `rate` bytes a second (or not at all past the headers, with rate 0). */
function slowDownload(url: string, token: string, rate: number): Download {
  let markStarted!: () => void;
  let response: IncomingMessage | undefined;
  const started = new Promise<void>((r) => (markStarted = r));
  const done = new Promise<{ status: number; bytes: number; md5: string; endedAt: number }>((resolve, reject) => {
    const req = request(url, { headers: { 'X-Auth-Token': token }, agent: false }, (res) => {
      response = res;
      const md5 = createHash('md5');
      let bytes = 0;
      const t0 = performance.now();
      if (rate === 0) {
        res.pause();
        markStarted();
      }
      res.on('data', (c: Buffer) => {
        md5.update(c);
        bytes += c.length;
        if (bytes >= 256 * 1024) markStarted();
        const ahead = rate === 0 ? 0 : bytes / rate - (performance.now() - t0) / 1000;
        if (ahead > 0) {
          res.pause();
          setTimeout(() => res.resume(), ahead * 1000);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, bytes, md5: md5.digest('hex'), endedAt: performance.now() }));
      res.on('error', reject);
      const cut = () => reject(new Error(`download cut after ${bytes} of ${res.headers['content-length']} bytes`));
      res.on('aborted', cut);
      res.on('close', () => res.complete || cut());
    });
    req.on('error', reject);
    req.end();
  });
  done.catch(() => markStarted());
  return { started, done, resume: () => response?.resume() };
}

/** Whether a new connection is refused, or what it is answered. */
async function probe(url: string): Promise<string> {
  try {
    return `answered ${(await fetchOnce(`${url}/healthcheck`)).status}`;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

async function startCluster(name: string, extra: string[] = []): Promise<{ run: Run; url: string }> {
  const run = sluice(['start', '--data-dir', join(dir, name), '--port', '0', '--storage-ports', '0,0,0', '--expirer-interval', '0', ...extra]);
  const m = await withLimit(run.printed(/sluice is running: proxy (http:\/\/\S+) /), `${name}: start-up`);
  return { run, url: m[1]! };
}

/** A container holding a 20 MB object of random bytes; its URL and MD5. */
async function bigObject(proxy: string): Promise<{ token: string; url: string; md5: string }> {
  const auth = await login(proxy, 'test:tester', 'testing');
  expect(auth.status).toBe(200);
  const token = auth.token!;
  expect((await fetchOnce(`${auth.storage}/big`, { method: 'PUT', headers: { 'X-Auth-Token': token } })).status).toBe(201);
  const body = randomBytes(OBJECT_BYTES);
  const url = `${auth.storage}/big/twenty-mb`;
  const put = await fetchOnce(url, { method: 'PUT', headers: { 'X-Auth-Token': token, 'Content-Length': String(body.length) }, body });
  expect(put.status).toBe(201);
  const md5 = createHash('md5').update(body).digest('hex');
  expect(put.headers.etag).toBe(md5);
  return { token, url, md5 };
}

const SIGTERM_LIMIT_MS = 90_000;

describe('SIGTERM drains', () => {
  for (const workers of ['2', '0']) {
    it(
      `lets ${DOWNLOADS} slow 20 MB downloads finish intact, refuses new connections and exits 0 (--workers ${workers})`,
      async () => {
        const { run, url } = await startCluster(`drain-${workers}`, ['--workers', workers]);
        try {
          const obj = await bigObject(url);
          const downloads = Array.from({ length: DOWNLOADS }, () => slowDownload(obj.url, obj.token, READ_RATE));
          await withLimit(Promise.all(downloads.map((d) => d.started)), 'downloads starting');
          const signalledAt = performance.now();
          run.child.kill('SIGTERM');
          await withLimit(run.printed(/SIGTERM: no new connections/, true), 'the drain line');
          // The workers close their share of the listening socket as the signal reaches them;
          // allow that a moment, then a new connection must find nobody listening.
          await new Promise((r) => setTimeout(r, 1000));
          expect(await probe(url)).toBe('ECONNREFUSED');
          const results = await Promise.all(downloads.map((d) => d.done));
          for (const r of results) expect(r).toMatchObject({ status: 200, bytes: OBJECT_BYTES, md5: obj.md5 });
          const end = await withLimit(run.exited, 'exit after the drain', 70_000);
          expect({ code: end.code, signal: end.signal }, run.stderr()).toEqual({ code: 0, signal: null });
          const lastDownload = Math.max(...results.map((r) => r.endedAt));
          // The figures for docs/reliability.md.
          console.log(
            `graceful (--workers ${workers}): ${results.length}/${DOWNLOADS} downloads of 20 MB completed intact; ` +
              `SIGTERM to last download ${Math.round(lastDownload - signalledAt)} ms, to exit ${Math.round(end.at - signalledAt)} ms`,
          );
          // It waited for the downloads (each needs seconds more), within the 60 s default bound.
          expect(end.at - signalledAt).toBeGreaterThan(2000);
          expect(end.at - signalledAt).toBeLessThan(60_000);
          expect(await survivors(run.pgid)).toEqual([]);
        } finally {
          killGroup(run.pgid);
          running.delete(run);
        }
      },
      SIGTERM_LIMIT_MS,
    );
  }
});

/** A configuration for `sluice start --config`: TempAuth with the users given, a 2 s drain bound. */
function conf(users: string, extra?: string): string {
  return proxyConf({
    pipeline: ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'cache', 'tempauth', ...(extra ? [extra] : []), 'proxy-logging'],
    sections: { tempauth: users },
    defaults: 'graceful_shutdown_timeout = 2',
  });
}

describe('SIGHUP reloads', () => {
  it(
    'replaces the workers under load with no failed request, applies a new option, and keeps serving through a broken configuration',
    async () => {
      const confPath = join(dir, 'reload.conf');
      writeFileSync(confPath, conf('user_test_tester = testing .admin'));
      const { run, url } = await startCluster('reload', ['--workers', '2', '--config', confPath]);
      try {
        const obj = await bigObject(url);
        const small = `${obj.url}-small`;
        expect((await fetchOnce(small, { method: 'PUT', headers: { 'X-Auth-Token': obj.token }, body: Buffer.from('hello') })).status).toBe(201);
        expect((await login(url, 'test2:tester2', 'testing2')).status).toBe(401);

        // Load: 4 loops, each request on a new connection, until told to stop.
        let load = true;
        const failures: string[] = [];
        let requests = 0;
        const loops = Array.from({ length: 4 }, async () => {
          while (load) {
            requests++;
            try {
              const r = await fetchOnce(small, { headers: { 'X-Auth-Token': obj.token } });
              if (r.status !== 200 || r.body.toString() !== 'hello') failures.push(`status ${r.status}`);
            } catch (err) {
              failures.push((err as NodeJS.ErrnoException).code ?? String(err));
            }
          }
        });
        // A download in flight across the reload: its old worker drains it.
        const download = slowDownload(obj.url, obj.token, 8 * READ_RATE);
        await withLimit(download.started, 'the download starting');

        const beforeReload = requests;
        writeFileSync(confPath, conf('user_test_tester = testing .admin\nuser_test2_tester2 = testing2 .admin'));
        process.kill(run.pgid, 'SIGHUP');
        await withLimit(run.printed(/proxy reloaded: workers .* serve the new configuration/, true), 'the reload');
        // The old workers stop taking connections as SIGTERM reaches them: from then on every
        // login is answered by a new worker.
        const until = performance.now() + 3000;
        while ((await login(url, 'test2:tester2', 'testing2')).status !== 200 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
        for (let i = 0; i < 10; i++) expect((await login(url, 'test2:tester2', 'testing2')).status).toBe(200);
        const duringReload = requests - beforeReload;
        expect(await download.done).toMatchObject({ status: 200, bytes: OBJECT_BYTES, md5: obj.md5 });

        // A configuration that cannot start (a filter nobody knows): one line, the workers stay.
        writeFileSync(confPath, conf('user_test_tester = testing .admin', 'no-such-filter'));
        const reloadedOnce = run.stderr();
        process.kill(run.pgid, 'SIGHUP');
        const refused = await withLimit(run.printed(/sluice: reload failed, still serving the previous configuration: .*\n/, true), 'the refused reload');
        expect(refused[0]).toContain('no-such-filter');
        await new Promise((r) => setTimeout(r, 500));
        expect(run.stderr().slice(reloadedOnce.length).split('\n').filter((l) => l.includes('no-such-filter'))).toHaveLength(1);
        expect((await login(url, 'test2:tester2', 'testing2')).status).toBe(200);

        load = false;
        await Promise.all(loops);
        console.log(`graceful reload: ${requests} requests on new connections (${duringReload} from SIGHUP to the new workers answering alone), ${failures.length} failed`);
        expect(failures).toEqual([]);
        expect(duringReload).toBeGreaterThan(0);
        expect(run.child.exitCode).toBeNull();

        run.child.kill('SIGTERM');
        const end = await withLimit(run.exited, 'stopping');
        expect({ code: end.code, signal: end.signal }, run.stderr()).toEqual({ code: 0, signal: null });
      } finally {
        killGroup(run.pgid);
        running.delete(run);
      }
    },
    120_000,
  );

  it(
    'cuts a download that outlives graceful_shutdown_timeout and exits 0 within the bound',
    async () => {
      const confPath = join(dir, 'bound.conf');
      writeFileSync(confPath, conf('user_test_tester = testing .admin'));
      const { run, url } = await startCluster('bound', ['--workers', '2', '--config', confPath]);
      try {
        const obj = await bigObject(url);
        // Reads nothing past the headers: never finishes by itself.
        const stalled = slowDownload(obj.url, obj.token, 0);
        await withLimit(stalled.started, 'the stalled download');
        const signalledAt = performance.now();
        run.child.kill('SIGTERM');
        const end = await withLimit(run.exited, 'exit after the bound', 15_000);
        const took = end.at - signalledAt;
        expect({ code: end.code, signal: end.signal }, run.stderr()).toEqual({ code: 0, signal: null });
        console.log(`graceful bound: a stalled download cut and the process exited ${Math.round(took)} ms after SIGTERM (graceful_shutdown_timeout = 2)`);
        // graceful_shutdown_timeout = 2: cut at 2 s, then the storage servers stop.
        expect(took).toBeGreaterThan(1900);
        expect(took).toBeLessThan(6000);
        // Read what was sent before the cut: the body ends short of its Content-Length.
        stalled.resume();
        await expect(withLimit(stalled.done, 'reading the cut download')).rejects.toThrow(/^download cut after \d+ of 20971520 bytes$/);
        expect(await survivors(run.pgid)).toEqual([]);
      } finally {
        killGroup(run.pgid);
        running.delete(run);
      }
    },
    60_000,
  );
});
