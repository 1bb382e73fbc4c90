// Each failed storage-node request is logged with its node, request and transaction, as Swift's
// proxy logs "ERROR with Object server ...": an observer of the BackendClient, as the
// pipeline subscribes it.
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { BackendClient } from '../../src/common/backend-client';
import type { RingNode } from '../../src/common/ring';
import { backendErrorLogger } from '../../src/proxy/backend-error-log';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { freePort } from '../helpers/memcached';
import { call } from './helpers';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { lines, logger };
}

function node(port: number): RingNode {
  return { id: 0, index: 0, region: 1, zone: 1, ip: '127.0.0.1', port, replication_ip: '127.0.0.1', replication_port: port, device: 'sdb', weight: 1, meta: '' };
}

describe('backend error log', () => {
  it('logs an unreachable node as an error line naming node, request and transaction', async () => {
    const { lines, logger } = capture();
    const client = new BackendClient({ connTimeout: 0.5, nodeTimeout: 2 });
    const unsubscribe = client.observe({ backendError: backendErrorLogger(logger) });
    const port = await freePort();
    await expect(client.send(node(port), { method: 'PUT', partition: 7, path: '/AUTH_a/c/o', headers: { 'x-trans-id': 'tx123-abc' }, body: 'x' })).rejects.toMatchObject({ kind: 'connect' });
    // A closed pipeline's logger is unsubscribed: it logs no more.
    unsubscribe();
    await expect(client.send(node(port), { method: 'GET', partition: 7, path: '/AUTH_a', headers: {} })).rejects.toMatchObject({ kind: 'connect' });
    await client.close();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, msg: 'backend request failed', transaction_id: 'tx123-abc', node: `127.0.0.1:${port}/sdb`, method: 'PUT', path: '/sdb/7/AUTH_a/c/o', kind: 'connect', err: 'ECONNREFUSED' });
  });

  it('logs a connection cut mid-request as a warning', async () => {
    const { lines, logger } = capture();
    // Accepts, then closes the connection without an answer.
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const client = new BackendClient({ connTimeout: 0.5, nodeTimeout: 2 });
    client.observe({ backendError: backendErrorLogger(logger) });
    await expect(client.send(node(port), { method: 'GET', partition: 1, path: '/AUTH_a', headers: { 'x-trans-id': 'tx456' } })).rejects.toMatchObject({ kind: 'io' });
    await client.close();
    await new Promise<void>((r) => server.close(() => r()));
    expect(lines.map((l) => [l.level, l.transaction_id, l.kind])).toEqual([[40, 'tx456', 'io']]);
  });
});

/** A cluster logging into `lines`, with a container `c` made; its URL, token and account path. */
async function clusterWithContainer(lines: Record<string, unknown>[]): Promise<{ cluster: TestCluster; token: string; account: string }> {
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const cluster = await startCluster({ logger, accessLogger: logger });
  const auth = await call(cluster.url, 'GET', '/auth/v1.0', { 'x-auth-user': 'test:tester', 'x-auth-key': 'testing' });
  const token = auth.headers['x-auth-token'] as string;
  const account = new URL(auth.headers['x-storage-url'] as string).pathname;
  expect((await call(cluster.url, 'PUT', `${account}/c`, { 'x-auth-token': token })).status).toBe(201);
  return { cluster, token, account };
}

describe('in the proxy', () => {
  it("a PUT answered 503 because the object server is gone leaves an error line with the client's transaction id", async () => {
    const lines: Record<string, unknown>[] = [];
    const { cluster, token, account } = await clusterWithContainer(lines);
    try {
      await cluster.object.close();
      const put = await call(cluster.url, 'PUT', `${account}/c/o`, { 'x-auth-token': token, 'content-length': '1' }, { body: 'x' });
      expect(put.status).toBe(503);
      const failures = lines.filter((l) => l.msg === 'backend request failed');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ level: 50, transaction_id: put.headers['x-trans-id'], method: 'PUT', kind: 'connect', node: `127.0.0.1:${cluster.object.port}/d1` });
      expect(failures[0]!.path).toMatch(new RegExp(`^/d1/\\d+${account.replace(/^\/v1/, '')}/c/o$`));
    } finally {
      await cluster.stop();
    }
  });
});

describe('an upload the proxy cuts', () => {
  it('because its client went away is the access line\'s 499, not a backend error line', async () => {
    const lines: Record<string, unknown>[] = [];
    const { cluster, token, account } = await clusterWithContainer(lines);
    try {
      // 1 MiB declared, 64 KiB sent (past what the proxy reads whole), then the client hangs up.
      await new Promise<void>((resolve) => {
        const r = request(new URL(`${account}/c/cut`, cluster.url), { method: 'PUT', headers: { 'x-auth-token': token, 'content-length': String(1 << 20) } });
        r.on('error', () => undefined);
        r.write(Buffer.alloc(64 * 1024, 1), () => setTimeout(() => (r.destroy(), resolve()), 200));
      });
      const until = Date.now() + 5000;
      while (!lines.some((l) => l.status === 499) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(lines.filter((l) => l.status === 499)).toHaveLength(1);
      expect(lines.filter((l) => l.msg === 'backend request failed')).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });
});
