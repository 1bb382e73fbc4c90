/**
 * The bench's wrk driver (scripts/lib/bench-wrk.ts): the Lua it writes sends exactly the request
 * asked for (method, path, headers, a binary body), and the result line counts statuses, bytes
 * and latencies. The live part runs Debian's wrk (installed by .ci/run) against a local server.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { luaString, parseWrkOutput, runWrk, wrkInstalled, wrkScript } from '../../scripts/lib/bench-wrk';

describe('luaString', () => {
  it('keeps printable ASCII and writes every other byte as a 3-digit decimal escape', () => {
    expect(luaString('abc')).toBe('"abc"');
    expect(luaString('a"b\\c')).toBe('"a\\034b\\092c"');
    // A digit after an escaped byte must not be read into the escape: \0101 would be "e1".
    expect(luaString(Buffer.from([0x0a, 0x31]))).toBe('"\\0101"');
    expect(luaString(Buffer.from([0xff, 0x00]))).toBe('"\\255\\000"');
  });

  it('writes a script with the method, path, headers and body', () => {
    const s = wrkScript({ method: 'PUT', path: '/v1/AUTH_t/c/o', headers: { 'x-auth-token': 'tk' }, body: 'xy' });
    expect(s).toContain('wrk.method = "PUT"');
    expect(s).toContain('wrk.path = "/v1/AUTH_t/c/o"');
    expect(s).toContain('wrk.headers["x-auth-token"] = "tk"');
    expect(s).toContain('wrk.body = "xy"');
    expect(s).toContain('function response(');
    // Measured runs: no callback, so wrk does not copy each body into Lua.
    expect(wrkScript({ path: '/' }, false)).not.toContain('function response(');
  });
});

describe('parseWrkOutput', () => {
  it('reads the result line: rates from the duration, non-2xx from the status counts', () => {
    const out = 'Running 1s test\nSLUICE-WRK-RESULT {"requests":300,"duration_us":1500000,"bytes":45000,"p50_us":1200,"p99_us":9800,"connect":0,"read":1,"write":0,"timeout":2,"status":{"200":290,"202":5,"409":4,"301":1}}\n';
    expect(parseWrkOutput(out)).toEqual({
      requests: 300,
      seconds: 1.5,
      bytes: 45000,
      p50Ms: 1.2,
      p99Ms: 9.8,
      errors: 3,
      timeouts: 2,
      non2xx: 5,
      statusCodes: { '200': 290, '202': 5, '409': 4, '301': 1 },
    });
  });

  it('fails loudly when wrk printed no result line', () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n')).toThrow(/no result line/);
  });
});

describe.skipIf(!wrkInstalled() && !process.env.CI)('runWrk against a local server', () => {
  it('sends the request as given and counts every status', async () => {
    const seen: { method: string; url: string; header: string | undefined; body: Buffer }[] = [];
    let n = 0;
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (seen.length < 5) seen.push({ method: req.method!, url: req.url!, header: req.headers['x-bench'] as string | undefined, body: Buffer.concat(chunks) });
        // Every tenth answer is a 409: the row must fail.
        res.writeHead(++n % 10 === 0 ? 409 : 201, { 'content-length': '2' });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const body = Buffer.from([0, 1, 2, 0x22, 0x5c, 0x0a, 0x39, 255]);
    try {
      const r = await runWrk(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { method: 'PUT', path: '/a/b%20c?x=1', headers: { 'x-bench': 'a"b\\c' }, body }, 4, 1);
      expect(r.requests).toBeGreaterThan(10);
      expect(r.statusCodes['201']! + r.statusCodes['409']!).toBe(r.requests);
      expect(r.non2xx).toBe(r.statusCodes['409']);
      expect(r.non2xx).toBeGreaterThan(0);
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
      expect(r.seconds).toBeGreaterThan(0.9);
      // Without the per-status callback (measured runs): wrk's own count of statuses >= 400.
      const quick = await runWrk(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { method: 'PUT', path: '/a', body }, 4, 1, { countStatuses: false });
      expect(Object.keys(quick.statusCodes)).toEqual(['>=400']);
      expect(quick.non2xx).toBe(quick.statusCodes['>=400']);
      expect(quick.non2xx).toBeGreaterThanOrEqual(Math.floor(quick.requests / 10) - 5);
      expect(quick.non2xx).toBeLessThanOrEqual(Math.ceil(quick.requests / 10) + 5);
      for (const s of seen) {
        expect(s.method).toBe('PUT');
        expect(s.url).toBe('/a/b%20c?x=1');
        expect(s.header).toBe('a"b\\c');
        expect(s.body.equals(body)).toBe(true);
      }
    } finally {
      server.close();
    }
  }, 30_000);
});
