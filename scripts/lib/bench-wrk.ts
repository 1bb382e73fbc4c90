/**
 * wrk as the bench's load generator (issue 17 measured Swift and sluice with wrk). wrk is C with
 * one event loop per thread, so on a 2-core machine it takes far less of the CPU the servers
 * under test share with it than autocannon (JavaScript, one thread) does at the same request
 * rate; at several thousand requests a second autocannon alone takes most of a core.
 *
 * One request, sent as-is on every connection (wrk's static request: no Lua per request). A Lua
 * `response` callback counts statuses per thread and `done` prints them with the totals and the
 * latency percentiles as one JSON line, read back here.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/** What one load run measured, whichever generator ran it. */
export interface LoadResult {
  /** Completed responses. */
  requests: number;
  /** Seconds the run lasted. */
  seconds: number;
  /** Response bytes (headers and bodies). */
  bytes: number;
  p50Ms: number;
  p99Ms: number;
  /** Connect, read and write errors and timeouts. */
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

export const WRK = '/usr/bin/wrk';

export function wrkInstalled(path = WRK): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A Lua string literal for any bytes: 3-digit decimal escapes (so a digit after one is not read into it) for all but plain printable ASCII. */
export function luaString(bytes: Buffer | string): string {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  let out = '"';
  for (const c of b) out += c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? String.fromCharCode(c) : `\\${String(c).padStart(3, '0')}`;
  return out + '"';
}

const MARKER = 'SLUICE-WRK-RESULT ';

/**
 * The Lua script for one request. With `countStatuses`, a `response` callback counts every
 * status per thread; without, only wrk's own count of answers with a status of 400 or more is
 * reported (as `>=400`). The callback has wrk copy every body into Lua: for the 156 KB listing
 * that cost 7% of the rate and tripled the p99 (569 against 237 ms), so measured runs go
 * without it and the warm-up before each (see scripts/bench.ts, measure) counts every status.
 */
export function wrkScript(req: LoadRequest, countStatuses = true): string {
  const headers = Object.entries(req.headers ?? {})
    .map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`)
    .join('\n');
  const counting = countStatuses
    ? `function init(args) statuses = {} end
function response(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
end
`
    : '';
  return `wrk.method = ${luaString(req.method ?? 'GET')}
wrk.path = ${luaString(req.path)}
${headers}
${req.body !== undefined ? `wrk.body = ${luaString(req.body)}` : ''}

local threads = {}
function setup(thread) table.insert(threads, thread) end
${counting}
function done(summary, latency, requests)
  local codes, total = {}, {}
  ${countStatuses ? '' : '-- '}for _, t in ipairs(threads) do for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end end
  for k, v in pairs(total) do table.insert(codes, string.format('"%s":%d', k, v)) end
  local e = summary.errors
  ${countStatuses ? '' : `if e.status > 0 then table.insert(codes, string.format('">=400":%d', e.status)) end`}
  io.write(string.format('${MARKER}{"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":{%s}}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, table.concat(codes, ",")))
end
`;
}

interface WrkJson {
  requests: number;
  duration_us: number;
  bytes: number;
  p50_us: number;
  p99_us: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  status: Record<string, number>;
}

export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
  if (!line) throw new Error(`wrk printed no result line:\n${stdout.slice(-2000)}`);
  const j = JSON.parse(line.slice(MARKER.length)) as WrkJson;
  let non2xx = 0;
  // A status code, or `>=400` (wrk's own count, when statuses were not counted one by one).
  for (const [code, n] of Object.entries(j.status)) if (!code.startsWith('2')) non2xx += n;
  return {
    requests: j.requests,
    seconds: j.duration_us / 1e6,
    bytes: j.bytes,
    p50Ms: j.p50_us / 1000,
    p99Ms: j.p99_us / 1000,
    errors: j.connect + j.read + j.write + j.timeout,
    timeouts: j.timeout,
    non2xx,
    statusCodes: j.status,
  };
}

/** Runs wrk against `origin` for `seconds` with `connections` connections over `threads` threads. */
export async function runWrk(origin: string, req: LoadRequest, connections: number, seconds: number, opts: { countStatuses?: boolean; threads?: number; wrk?: string } = {}): Promise<LoadResult> {
  const { countStatuses = true, threads = 2, wrk = WRK } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wrk-'));
  try {
    const script = join(dir, 'request.lua');
    writeFileSync(script, wrkScript(req, countStatuses));
    const t = Math.max(1, Math.min(threads, connections));
    const args = ['-t', String(t), '-c', String(connections), '-d', `${Math.max(1, Math.round(seconds))}s`, '--timeout', '10s', '-s', script, origin];
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(wrk, args, { maxBuffer: 16 << 20 }, (err, out, errOut) => (err ? reject(new Error(`wrk ${args.join(' ')}: ${err.message}\n${errOut}`)) : resolve(out)));
    });
    return parseWrkOutput(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
