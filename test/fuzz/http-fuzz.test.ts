/**
 * The HTTP fuzzer (scripts/fuzz.ts) in CI: 10,000 requests with a fixed seed against an
 * in-process development cluster must get no 5xx, no hang, leave the cluster answering and the
 * known objects intact. The long campaign (`npm run fuzz -- --requests 100000`) is in
 * docs/reliability.md. The fuzzer itself is checked first against servers that misbehave on purpose,
 * so a clean run means something.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { findingLine, fuzzFailed, fuzzRequests, requestStream, runFuzz, summary } from '../../scripts/fuzz';
import { requestBytes, type FuzzRequest } from '../../scripts/lib/fuzz-requests';

const SEED = 20261203;
const TOKENS = { tester: 't1', tester3: 't3', admin: 'ta', bogus: 'tb' };

describe('the fuzzer', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Answers 500 to DELETE, never answers OPTIONS, 200 otherwise (healthcheck included).
    server = createServer((req, res) => {
      req.resume();
      if (req.method === 'OPTIONS') return;
      res.statusCode = req.method === 'DELETE' ? 500 : 200;
      res.end('x');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('generates the same requests for the same seed', () => {
    const a = [...requestStream(7, 50)];
    const b = [...requestStream(7, 50)];
    expect(a).toHaveLength(50);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify([...requestStream(8, 50)])).not.toBe(JSON.stringify(a));
  });

  it('reports 5xx as replayable lines and unanswered requests as hangs', async () => {
    const r = await fuzzRequests({ url, requests: 300, seed: SEED, concurrency: 8, hangMs: 300 }, TOKENS);
    expect(r.sent).toBe(300);
    // Requests Node's parser refuses (400) never reach the handler: some DELETEs get no 500.
    expect(r.serverErrors.length).toBeGreaterThan(5);
    expect(r.serverErrors.every((f) => f.status === 500 && f.request.method === 'DELETE')).toBe(true);
    expect(r.hangs.length).toBeGreaterThan(0);
    expect(r.hangs.every((f) => f.status === 0 && f.request.method === 'OPTIONS')).toBe(true);
    expect(r.byClass['hang']).toBe(r.hangs.length);
    const line = JSON.parse(findingLine('5xx', r.serverErrors[0]!)) as { request: FuzzRequest };
    expect(requestBytes(line.request, TOKENS, 'h')).toEqual(requestBytes(r.serverErrors[0]!.request, TOKENS, 'h'));
    expect(fuzzFailed({ ...r, corrupted: [], knownObjects: 6 })).toBe(true);
  });
});

describe('10,000 fuzzed requests against a development cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it(`seed ${SEED}: no 5xx, no hang, no crash, known objects intact`, async () => {
    const r = await runFuzz({ url: cluster.url, requests: 10_000, seed: SEED, concurrency: 4 });
    const report = summary(r);
    expect(r.sent, report).toBe(10_000);
    expect(r.serverErrors.map((f) => findingLine('5xx', f)), report).toEqual([]);
    expect(r.hangs.map((f) => findingLine('hang', f)), report).toEqual([]);
    expect(r.unreachable, report).toBe(false);
    expect(r.corrupted, report).toEqual([]);
    expect(r.knownObjects).toBe(6);
    // The run reached sluice's handlers, not just Node's parser: successes and its own refusals.
    expect(r.byClass['2xx'] ?? 0, report).toBeGreaterThan(200);
    expect(r.byStatus['401'] ?? 0, report).toBeGreaterThan(200);
    expect(r.byStatus['403'] ?? 0, report).toBeGreaterThan(200);
    expect(r.maxLatencyMs).toBeLessThan(30_000);
    expect(fuzzFailed(r)).toBe(false);
  }, 150_000);
});
