// The pure parts of `npm run bench -- --compare-swift` (scripts/bench-compare-swift.ts and
// scripts/lib/bench-swift-*.ts): rounds folded into a row, the ratio, the non-2xx rule, the 1 GiB
// RSS verdict, the tables, the option parser and Swift's proxy configuration. The bench itself
// needs Debian's Swift and minutes of load, so it is not run here.
import { describe, expect, it } from 'vitest';
import { wrkInstalled } from '../../scripts/lib/bench-wrk';
import type { OpStats } from '../../scripts/bench';
import { COMPARE_OPS, main, parseCompareArgs } from '../../scripts/bench-compare-swift';
import { swiftProxyConf } from '../../scripts/lib/bench-swift-cluster';
import { bigOk, compareRow, failedAnswersInLog, failures, formatBig, formatCompare, isFlat, markdownTable, ratio, rssGrowth, summarize, type BigTransfer } from '../../scripts/lib/bench-swift-report';

function stats(over: Partial<OpStats> = {}): OpStats {
  return {
    reqPerSec: 100,
    mbPerSec: 0.4,
    p50Ms: 10,
    p99Ms: 30,
    requests: 1000,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    statusCodes: { '200': 1000 },
    failed: false,
    peakRssMiB: 300,
    cpuUsPerReq: 500,
    storageCpuUsPerReq: 200,
    workerExits: 0,
    ...over,
  };
}

describe('summarize and compareRow', () => {
  it('averages req/s, keeps the worst round for the latencies and RSS, and sums the counts', () => {
    const s = summarize([stats({ reqPerSec: 100, p50Ms: 10, p99Ms: 40, peakRssMiB: 300 }), stats({ reqPerSec: 300, p50Ms: 12, p99Ms: 35, peakRssMiB: 320, cpuUsPerReq: 700 })]);
    expect(s.reqPerSec).toBe(200);
    expect(s.rounds).toEqual([100, 300]);
    expect(s.p50Ms).toBe(12);
    expect(s.p99Ms).toBe(40);
    expect(s.peakRssMiB).toBe(320);
    expect(s.cpuUsPerReq).toBe(600);
    expect(s.requests).toBe(2000);
    expect(s.failed).toBe(false);
  });

  it('leaves unknown RSS and CPU unknown, and refuses an empty list', () => {
    const s = summarize([stats({ peakRssMiB: null, cpuUsPerReq: null, storageCpuUsPerReq: null })]);
    expect(s.peakRssMiB).toBeNull();
    expect(s.cpuUsPerReq).toBeNull();
    expect(() => summarize([])).toThrow(/no rounds/);
  });

  it('divides sluice by Swift, and has no ratio when Swift served nothing', () => {
    expect(ratio(500, 100)).toBe(5);
    expect(ratio(500, 0)).toBeNull();
    const row = compareRow('auth', 'GET /auth/v1.0', false, [stats({ reqPerSec: 600 })], [stats({ reqPerSec: 200 }), stats({ reqPerSec: 100 })]);
    expect(row.ratio).toBe(4);
  });
});

describe('the non-2xx rule', () => {
  it('fails a row with any non-2xx answer in any round, naming the side and the statuses', () => {
    const put = compareRow(
      'object-put-4k',
      'object PUT 4 KiB',
      false,
      [stats(), stats({ non2xx: 22, failed: true, statusCodes: { '201': 978, '409': 22 } })],
      [stats({ statusCodes: { '201': 1000 } })],
    );
    expect(put.sluice.failed).toBe(true);
    expect(put.sluice.non2xx).toBe(22);
    expect(put.sluice.badStatuses).toEqual({ '409': 22 });
    expect(put.swift.failed).toBe(false);
    expect(failures([put])).toEqual(['object PUT 4 KiB, sluice: 22 of 2000 answers non-2xx (409 ×22)']);
    const table = formatCompare([put]);
    expect(table).toContain('**FAILED 22** (409 ×22) / 0');
    expect(table).toContain('FAILED: 1 row side(s)');
  });

  it("names the failed answers from sluice's proxy log: status, method, path, transaction id, and errors", () => {
    const access = (status: number, tx: string) =>
      JSON.stringify({ level: 30, name: 'proxy-server', log_route: 'proxy-access', method: 'PUT', path: '/v1/AUTH_test/c/o', status, transaction_id: tx });
    const log = [
      'proxy-server listening on http://127.0.0.1:1',
      access(201, 'tx1'),
      access(503, 'tx2'),
      access(499, 'tx3'),
      '{"level":50,"msg":"object PUT: no quorum","err":"ECONNRESET"}',
      '{not json',
      access(409, 'tx4'),
    ].join('\n');
    expect(failedAnswersInLog(log)).toEqual(['503 PUT /v1/AUTH_test/c/o tx2', '409 PUT /v1/AUTH_test/c/o tx4', 'error: object PUT: no quorum ("ECONNRESET")']);
    expect(failedAnswersInLog(log, 1)).toEqual(['503 PUT /v1/AUTH_test/c/o tx2', 'error: object PUT: no quorum ("ECONNRESET")']);
  });

  it('passes a row whose answers are all 2xx, 202 included', () => {
    const row = compareRow('object-put-4k', 'object PUT 4 KiB', false, [stats({ statusCodes: { '201': 900, '202': 100 } })], [stats()]);
    expect(failures([row])).toEqual([]);
    expect(formatCompare([row])).not.toContain('FAILED');
  });
});

describe('tables', () => {
  it('renders one aligned Markdown row per operation, MB/s for the byte rows, thousands grouped', () => {
    const rows = [
      compareRow('auth', 'GET /auth/v1.0', false, [stats({ reqPerSec: 4155.4 })], [stats({ reqPerSec: 1513 })]),
      compareRow('object-get-1m', 'object GET 1 MiB', true, [stats({ reqPerSec: 62, mbPerSec: 65.2 })], [stats({ reqPerSec: 87, mbPerSec: 91.6 })]),
    ];
    const lines = formatCompare(rows).split('\n');
    expect(lines[0]).toMatch(/^\| operation +\| sluice req\/s \| +Swift req\/s \| sluice\/Swift \|/);
    expect(lines[1]).toMatch(/^\|-+\|-+:\|/);
    expect(lines[2]).toMatch(/^\| GET \/auth\/v1\.0 +\| +4,155 \| +1,513 \| +2\.75× \| +10 \/ 30 \|/);
    expect(lines[3]).toContain('62 (65 MB/s)');
    expect(lines[3]).toContain('87 (92 MB/s)');
    expect(lines[3]).toContain('0.71×');
    expect(new Set(lines.slice(0, 4).map((l) => l.length)).size).toBe(1);
    expect(lines).toContain('- GET /auth/v1.0: 4,155 | 1,513');
  });

  it('markdownTable right-aligns every column but the first', () => {
    expect(markdownTable(['a', 'bb'], [['x', '1']])).toBe('| a | bb |\n|---|---:|\n| x |  1 |');
  });
});

describe('the 1 GiB transfer', () => {
  const size = 2 ** 30;
  const t = (over: Partial<BigTransfer>): BigTransfer => ({ target: 'sluice', method: 'GET', bytes: size, seconds: 8, status: 200, idleRssMiB: 420, peakRssMiB: 430, ...over });

  it('calls RSS flat when the peak stays within 64 MiB of idle', () => {
    expect(rssGrowth(t({}))).toBe(10);
    expect(isFlat(t({}))).toBe(true);
    expect(isFlat(t({ peakRssMiB: 484 }))).toBe(false);
    expect(isFlat(t({ peakRssMiB: null }))).toBeNull();
  });

  it('fails a transfer that was not 2xx or came short', () => {
    expect(bigOk(t({}), size)).toBe(true);
    expect(bigOk(t({ status: 503 }), size)).toBe(false);
    expect(bigOk(t({ bytes: size - 1 }), size)).toBe(false);
    const table = formatBig([t({}), t({ method: 'PUT', status: 413, bytes: 0, peakRssMiB: 600 })], size);
    expect(table).toMatch(/^\| GET 1 GiB, sluice \| +200 \| +134 \| +8\.0 \| +420 \| +430 \| +10 \| +yes \|$/m);
    expect(table).toContain('**FAILED 413** (0 of 1073741824 bytes)');
    expect(table).toContain('**no**');
  });

  it('names the SLO transfer in its row', () => {
    const table = formatBig([t({ kind: 'SLO', target: 'Swift' })], size);
    expect(table).toMatch(/^\| GET 1 GiB SLO, Swift \| +200 \|/m);
  });
});

describe('options', () => {
  it('defaults to the issue\'s settings: every row, 10 s, 2 rounds, 32 connections, 2 workers', () => {
    const o = parseCompareArgs([]);
    expect(o).toMatchObject({ proxyOnly: false, duration: 10, rounds: 2, connections: 32, workers: 2, big: false });
    expect(o.ops).toEqual(COMPARE_OPS.map((x) => x.name));
    expect(COMPARE_OPS.map((x) => x.name)).toEqual(['auth', 'account-head', 'account-head-acl', 'container-get', 'object-get-4k', 'object-head', 'object-put-4k', 'object-get-1m']);
  });

  it('takes --proxy-only, --big with --ops none, and refuses nonsense', () => {
    expect(parseCompareArgs(['--proxy-only', '--duration', '2.5', '--rounds', '3'])).toMatchObject({ proxyOnly: true, duration: 2.5, rounds: 3 });
    expect(parseCompareArgs(['--big', '--ops', 'none'])).toMatchObject({ big: true, ops: [] });
    expect(() => parseCompareArgs(['--ops', 'none'])).toThrow(/nothing to measure/);
    expect(() => parseCompareArgs(['--ops', 'object-delete'])).toThrow(/unknown operation/);
    expect(() => parseCompareArgs(['--rounds', '0'])).toThrow(/--rounds/);
    expect(() => parseCompareArgs(['--duration', '0'])).toThrow(/--duration/);
  });

  it('loads with wrk when Debian\'s wrk is installed (as issue 17 measured), else autocannon; --load chooses', () => {
    expect(parseCompareArgs([]).load).toBe(wrkInstalled() ? 'wrk' : 'autocannon');
    expect(parseCompareArgs(['--load', 'autocannon']).load).toBe('autocannon');
    if (wrkInstalled()) expect(parseCompareArgs(['--load', 'wrk']).load).toBe('wrk');
    else expect(() => parseCompareArgs(['--load', 'wrk'])).toThrow(/needs \/usr\/bin\/wrk/);
    expect(() => parseCompareArgs(['--load', 'ab'])).toThrow(/--load must be wrk or autocannon/);
  });

  it('answers a usage error with exit 2 and --help with the operations', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
    expect(await main(['--rounds', 'x'], io)).toBe(2);
    expect(err.join('\n')).toMatch(/--rounds must be a whole number/);
    expect(await main(['--help'], io)).toBe(0);
    expect(out.join('\n')).toMatch(/Operations: auth, account-head, .*object-get-1m$/);
  });
});

describe("Swift's proxy configuration", () => {
  it('is sluice\'s development pipeline with 2 workers, spelled-out users and memcached', () => {
    const conf = swiftProxyConf({ port: 1234, workers: 2, etc: '/tmp/x/etc', user: 'root', memcache: '127.0.0.1:5555' });
    expect(conf).toMatch(/^\[DEFAULT\]\nbind_ip = 127\.0\.0\.1\nbind_port = 1234\nworkers = 2\nuser = root\nswift_dir = \/tmp\/x\/etc\n/m);
    expect(conf).not.toMatch(/^bind_port = 8080/m);
    expect(conf).toMatch(/^pipeline = catch_errors gatekeeper healthcheck proxy-logging cache .* proxy-logging proxy-server$/m);
    expect(conf).toMatch(/^user_test_tester = testing \.admin$/m);
    expect(conf).toMatch(/^user_test_tester3 = testing3$/m);
    expect(conf).not.toMatch(/^dev_users/m);
    expect(conf).toMatch(/use = egg:swift#memcache\nmemcache_servers = 127\.0\.0\.1:5555\nmemcache_max_connections = 32\nconnect_timeout = 10\npool_timeout = 10\nio_timeout = 10\n/);
  });
});
