/**
 * A real memcached (Debian's /usr/bin/memcached) per test file, on a free loopback port, and the
 * skip-or-fail rule for when the binary is missing: skipped with the reason shown, but under the
 * CI variable a failure (CI installs memcached, see .ci/run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { userInfo } from 'node:os';

export const MEMCACHED = '/usr/bin/memcached';
export const haveMemcached = existsSync(MEMCACHED);
if (!haveMemcached && process.env.CI) throw new Error(`${MEMCACHED} is required in CI (apt-get install memcached)`);
export const memcachedSkipReason = haveMemcached ? '' : `(skipped: ${MEMCACHED} is not installed)`;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export interface Memcached {
  /** `127.0.0.1:<port>`, as memcache_servers names it. */
  server: string;
  port: number;
  /** Freezes the process (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
}

export async function startMemcached(): Promise<Memcached> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const launch = async () => {
    // memcached refuses to run as root without -u.
    const asUser = userInfo().uid === 0 ? ['-u', 'nobody'] : [];
    const p = spawn(MEMCACHED, ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '16', ...asUser], { stdio: 'ignore' });
    proc = p;
    const until = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (p.exitCode !== null || Date.now() > until) throw new Error(`memcached did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGCONT');
    p.kill('SIGTERM');
    await exited;
  };
  await launch();
  return {
    server: `127.0.0.1:${port}`,
    port,
    pause: () => proc?.kill('SIGSTOP'),
    resume: () => proc?.kill('SIGCONT'),
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
  };
}
