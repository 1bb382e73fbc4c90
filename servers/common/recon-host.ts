/**
 * What swift/common/middleware/recon.py reads about the host itself: /proc/mounts, /proc/loadavg,
 * /proc/meminfo, /proc/net/sockstat{,6} and the clock, in the shapes Swift's recon answers with.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { PyNumber, pyFloatRepr } from '../../src/compat/json';

/** A Python float for pyJsonDumps (`1.0`, not `1`). */
const pyFloat = (x: number) => new PyNumber(x, pyFloatRepr(x), false);

/** get_mounted: every line of /proc/mounts as {device, path}. */
export function mounted(): { device: string; path: string }[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [device = '', path = ''] = l.trim().split(/\s+/);
      return { device, path };
    });
}

/** get_load: the three averages as floats, `tasks` as its "running/total" text, the last pid as `processes`. */
export function load(): Record<string, unknown> {
  const [one, five, fifteen, tasks, procs] = readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/);
  return { '1m': pyFloat(Number(one)), '5m': pyFloat(Number(five)), '15m': pyFloat(Number(fifteen)), tasks, processes: Number(procs) };
}

/** get_mem: /proc/meminfo as name → value text ("16326060 kB"). */
export function mem(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    if (!line) continue;
    const i = line.indexOf(':');
    out[i < 0 ? line : line.slice(0, i)] = i < 0 ? '' : line.slice(i + 1).trim();
  }
  return out;
}

let pageSize: number | undefined;
/** resource.getpagesize(): the kernel page size of this process's mappings (4096 where it cannot be read). */
function kernelPageSize(): number {
  if (pageSize === undefined) {
    const m = /^KernelPageSize:\s+(\d+) kB/m.exec(readOptional('/proc/self/smaps') ?? '');
    pageSize = m ? Number(m[1]) * 1024 : 4096;
  }
  return pageSize;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** get_socket_info: TCP sockets in use, orphaned, in TIME_WAIT, their memory in bytes (kernel pages × page size), TCP6 in use. */
export function sockstat(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (readOptional('/proc/net/sockstat') ?? '').split('\n')) {
    if (!line.startsWith('TCP: inuse')) continue;
    const f = line.split(/\s+/);
    out.tcp_in_use = Number(f[2]);
    out.orphan = Number(f[4]);
    out.time_wait = Number(f[6]);
    out.tcp_mem_allocated_bytes = Number(f[10]) * kernelPageSize();
  }
  for (const line of (readOptional('/proc/net/sockstat6') ?? '').split('\n')) {
    if (line.startsWith('TCP6: inuse')) out.tcp6_in_use = Number(line.split(/\s+/)[2]);
  }
  return out;
}

/** Wall-clock milliseconds minus performance.now(), taken at a turn of the wall clock's millisecond. */
let monotonicOffset: number | undefined;

/**
 * The offset at the instant Date.now() moves to its next millisecond (a wait of under 1 ms):
 * performance.timeOrigin is the process's start, and the monotonic clock drifts from the wall
 * clock (NTP slews it) by more than a millisecond over a long-running process.
 */
function calibrate(): number {
  const start = Date.now();
  let wall = start;
  while (wall === start) wall = Date.now();
  return wall - performance.now();
}

/**
 * get_time: time.time() with sub-millisecond digits. swift-recon --time wants the answer between
 * the moments it sent and received (no jitter by default), which a whole-millisecond clock can
 * miss. The monotonic clock gives the fraction, against an offset re-taken whenever the result
 * would fall outside the wall clock's current millisecond.
 */
export function now(): PyNumber {
  monotonicOffset ??= calibrate();
  let fine = monotonicOffset + performance.now();
  const wall = Date.now();
  if (fine < wall || fine >= wall + 1) {
    monotonicOffset = calibrate();
    fine = monotonicOffset + performance.now();
  }
  return pyFloat(fine / 1000);
}
