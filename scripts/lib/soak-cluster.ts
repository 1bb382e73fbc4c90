/**
 * The real CLI (`sluice start`) in a process group of its own, for runs that measure processes:
 * the soak (scripts/soak.ts) and the hostile-client tests. With `--workers N` the primary runs
 * the storage servers and node:cluster workers the proxy, so each can be sampled on its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'sluice.js');

export interface ChildCluster {
  url: string;
  /** The `sluice start` process: the storage servers (and the proxy too with --workers 0). */
  pid: number;
  child: ChildProcess;
  /** Everything it printed to stderr so far (the last 64 KiB). */
  stderr(): string;
  stop(): Promise<void>;
}

/** The filters of the development pipeline, each with its egg and its lines. */
const SOAK_FILTERS: [string, string, string?][] = [
  ['catch_errors', 'catch_errors'],
  ['gatekeeper', 'gatekeeper'],
  ['healthcheck', 'healthcheck'],
  ['proxy-logging', 'proxy_logging'],
  ['cache', 'memcache'],
  ['listing_formats', 'listing_formats'],
  ['bulk', 'bulk'],
  ['tempurl', 'tempurl'],
  ['tempauth', 'tempauth', 'user_test_tester = testing .admin\nuser_test2_tester2 = testing2 .admin'],
  ['copy', 'copy'],
  ['container-quotas', 'container_quotas'],
  ['account-quotas', 'account_quotas'],
  ['versioned_writes', 'versioned_writes', 'allow_versioned_writes = true'],
  ['symlink', 'symlink'],
];

/**
 * The development pipeline (as `sluice start` had it on 2026-12-03), written out so that a long
 * run does not depend on the built-in configuration of the moment; TempAuth with two users.
 */
export function soakProxyConf(): string {
  const names = SOAK_FILTERS.map(([n]) => n);
  const sections = SOAK_FILTERS.map(([name, egg, lines]) => `[filter:${name}]\nuse = egg:swift#${egg}\n${lines ?? ''}\n`);
  return [
    '[DEFAULT]\nbind_ip = 127.0.0.1\n',
    `[pipeline:main]\npipeline = ${names.join(' ')} proxy-logging proxy-server\n`,
    '[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\nallow_account_management = true\n',
    ...sections,
  ].join('\n');
}

export interface ChildClusterOptions {
  /** Extra arguments of `sluice start`, e.g. ['--workers', '1', '--config', path]. */
  args?: string[];
  /** proxy-server.conf text, written into the data directory and given as --config. */
  config?: string;
  /** Data directory (default: a fresh temp one, removed by stop()). */
  dataDir?: string;
  startLimitMs?: number;
}

/** Keeps the tail of a stream that must be drained (the access log goes to stdout). */
function tail(stream: NodeJS.ReadableStream, keep: number): () => string {
  let text = '';
  stream.on('data', (b: Buffer) => {
    text += b.toString();
    if (text.length > 2 * keep) text = text.slice(-keep);
  });
  return () => text.slice(-keep);
}

export async function startChildCluster(opts: ChildClusterOptions = {}): Promise<ChildCluster> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'sluice-child-'));
  const args = ['start', '--data-dir', dataDir, '--port', '0', '--storage-ports', '0,0,0', '--expirer-interval', '0', ...(opts.args ?? [])];
  if (opts.config !== undefined) {
    const path = join(dataDir, 'proxy-server.conf');
    writeFileSync(path, opts.config);
    args.push('--config', path);
  }
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = tail(child.stdout!, 64 * 1024);
  const stderr = tail(child.stderr!, 64 * 1024);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await exited;
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const limit = opts.startLimitMs ?? 60_000;
  const until = performance.now() + limit;
  for (;;) {
    const m = /sluice is running: proxy (http:\/\/\S+) /.exec(stdout());
    if (m) return { url: m[1]!, pid: child.pid!, child, stderr, stop };
    if (child.exitCode !== null || performance.now() > until) {
      await stop();
      throw new Error(`sluice start did not come up within ${limit} ms (exit ${child.exitCode}):\n${stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ProcessSample {
  pid: number;
  /** The sluice start process itself, or one of its proxy workers. */
  role: 'primary' | 'worker';
  rssKiB: number;
  fds: number;
}

/** A number from /proc/<pid>/status, e.g. VmRSS in KiB. */
function statusField(pid: number, field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/** Children of `ppid` by their command (node:cluster workers are `node`; tsx's esbuild is not). */
function nodeChildren(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (statusField(Number(name), 'PPid') === ppid && /^Name:\s+node\b/m.test(readFileSync(`/proc/${name}/status`, 'utf8'))) out.push(Number(name));
    } catch {
      // Exited meanwhile.
    }
  }
  return out;
}

/** RSS and open file descriptors of a process and its node children (its proxy workers). */
export function sampleProcesses(pid: number): ProcessSample[] {
  const samples: ProcessSample[] = [];
  for (const [p, role] of [[pid, 'primary'], ...nodeChildren(pid).map((w) => [w, 'worker'] as const)] as const) {
    try {
      samples.push({ pid: p, role, rssKiB: statusField(p, 'VmRSS') ?? 0, fds: readdirSync(`/proc/${p}/fd`).length });
    } catch {
      // Exited meanwhile.
    }
  }
  return samples;
}
