/**
 * Quorum and failure handling: rings whose replicas point partly at real storage servers,
 * partly at a closed port or at a server that accepts connections and never answers.
 */
import pino from 'pino';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevices } from '../helpers/tmp';
import { startAccountServer, startContainerServer, startObjectServer, type RunningServer } from '../../servers/index';
import { parseSwiftConf } from '../../src/common/swift-conf';
import { buildRing, Ring } from '../../src/common/ring';
import { parseProxyConfig } from '../../src/proxy/config';
import { startProxyServer, type RunningProxy } from '../../src/proxy/server';
import type { Rings } from '../../src/proxy/state';
import { call, proxyConf, uniq } from './helpers';

const swiftConf = parseSwiftConf('[swift-hash]\nswift_hash_path_suffix = quorum-test\n\n[storage-policy:0]\nname = gold\ndefault = yes\n');
const devices = makeDevices(['d1', 'd2', 'd3']);
let account: RunningServer;
let container: RunningServer;
let object: RunningServer;
let hang: NetServer;
let hangPort: number;
const hangSockets = new Set<Socket>();
let deadPort: number;
const proxies: RunningProxy[] = [];

type Target = 'live' | 'dead' | 'hang';

function port(kind: 'account' | 'container' | 'object', t: Target): number {
  if (t === 'dead') return deadPort;
  if (t === 'hang') return hangPort;
  return { account, container, object }[kind].port;
}

/** Rings of 3 replicas over d1..d3 (no handoffs), each device at the given target. */
function rings(targets: [Target, Target, Target], accountTargets = targets): Rings {
  const make = (kind: 'account' | 'container' | 'object', t: Target[]) =>
    new Ring(
      null,
      buildRing({
        partPower: 4,
        replicas: 3,
        devices: t.map((target, i) => ({ region: 1, zone: i + 1, ip: '127.0.0.1', port: port(kind, target), device: `d${i + 1}` })),
      }),
      swiftConf.hash,
    );
  return { account: make('account', accountTargets), container: make('container', targets), object: new Map([[0, make('object', targets)]]) };
}

async function proxy(r: Rings): Promise<string> {
  const config = parseProxyConfig(proxyConf({ conn_timeout: '0.2', node_timeout: '0.5', recheck_account_existence: '0', recheck_container_existence: '0' }));
  const p = await startProxyServer({ config, rings: r, swiftConf, port: 0, logger: pino({ level: 'silent' }) });
  proxies.push(p);
  return p.url;
}

let allUp: string;

beforeAll(async () => {
  const common = { devices: devices.dir, swiftConf, nodeTimeout: 0.5, connTimeout: 0.2 };
  account = await startAccountServer(common);
  container = await startContainerServer(common);
  object = await startObjectServer(common);
  const dead = createNetServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  deadPort = (dead.address() as { port: number }).port;
  await new Promise<void>((r) => dead.close(() => r()));
  hang = createNetServer((s) => {
    hangSockets.add(s);
    s.on('close', () => hangSockets.delete(s));
    s.on('error', () => undefined);
    // Read and discard, never answer.
    s.resume();
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  hangPort = (hang.address() as { port: number }).port;
  allUp = await proxy(rings(['live', 'live', 'live']));
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  for (const s of hangSockets) s.destroy();
  await new Promise<void>((r) => hang.close(() => r()));
  await account.close();
  await container.close();
  await object.close();
  devices.remove();
});

describe('one replica of three down', () => {
  it('still writes and reads with 2xx', async () => {
    const url = await proxy(rings(['live', 'live', 'dead']));
    const a = uniq('AUTH_q');
    expect((await call(url, 'PUT', `/v1/${a}`)).status).toBe(201);
    expect((await call(url, 'POST', `/v1/${a}`, { 'X-Account-Meta-X': '1' })).status).toBe(204);
    expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
    expect((await call(url, 'POST', `/v1/${a}/c`, { 'X-Container-Meta-X': '1' })).status).toBe(204);
    const put = await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '3' }, { body: 'abc' });
    expect(put.status).toBe(201);
    expect((await call(url, 'POST', `/v1/${a}/c/o`, { 'X-Object-Meta-Y': '2' })).status).toBe(202);
    const get = await call(url, 'GET', `/v1/${a}/c/o`);
    expect(get.status).toBe(200);
    expect(get.text).toBe('abc');
    expect(get.headers['x-object-meta-y']).toBe('2');
    expect((await call(url, 'HEAD', `/v1/${a}/c`)).status).toBe(204);
    expect((await call(url, 'DELETE', `/v1/${a}/c/o`)).status).toBe(204);
    expect((await call(url, 'GET', `/v1/${a}/c/o`)).status).toBe(404);
  });

  it('still writes when one replica hangs (after the node timeout)', async () => {
    const url = await proxy(rings(['live', 'hang', 'live'], ['live', 'live', 'live']));
    const a = uniq('AUTH_q');
    expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
    expect((await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '3' }, { body: 'abc' })).status).toBe(201);
    // A body bigger than the socket buffers must not stall on the replica that never reads... it does read; never answers.
    const big = Buffer.alloc(2 * 1024 * 1024, 7);
    const put = await call(url, 'PUT', `/v1/${a}/c/big`, { 'content-length': String(big.length) }, { body: big });
    expect(put.status).toBe(201);
    expect(put.headers.etag).toBe(createHash('md5').update(big).digest('hex'));
    const get = await call(url, 'GET', `/v1/${a}/c/big`);
    expect(get.status).toBe(200);
    expect(get.raw.equals(big)).toBe(true);
  });
});

describe('two replicas of three down', () => {
  it('answers 503 to writes', async () => {
    const a = uniq('AUTH_q');
    // Created while everything was up.
    expect((await call(allUp, 'PUT', `/v1/${a}/c`)).status).toBe(201);
    const url = await proxy(rings(['live', 'dead', 'dead']));
    expect((await call(url, 'POST', `/v1/${a}`, { 'X-Account-Meta-X': '1' })).status).toBe(503);
    expect((await call(url, 'PUT', `/v1/${a}/c2`)).status).toBe(503);
    expect((await call(url, 'POST', `/v1/${a}/c`, { 'X-Container-Meta-X': '1' })).status).toBe(503);
    expect((await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '3' }, { body: 'abc' })).status).toBe(503);
    expect((await call(url, 'PUT', `/v1/${a}/c/chunked`, { 'transfer-encoding': 'chunked' }, { body: Readable.from([Buffer.from('abc')]) })).status).toBe(503);
    expect((await call(url, 'DELETE', `/v1/${a}/c`)).status).toBe(503);
  });

  it('still reads what the live replica has, and 503s on a lone 404', async () => {
    const a = uniq('AUTH_q');
    expect((await call(allUp, 'PUT', `/v1/${a}/c`)).status).toBe(201);
    expect((await call(allUp, 'PUT', `/v1/${a}/c/o`, { 'content-length': '3' }, { body: 'abc' })).status).toBe(201);
    const url = await proxy(rings(['live', 'dead', 'dead']));
    const get = await call(url, 'GET', `/v1/${a}/c/o`);
    expect(get.status).toBe(200);
    expect(get.text).toBe('abc');
    expect((await call(url, 'HEAD', `/v1/${a}/c`)).status).toBe(204);
    expect((await call(url, 'GET', `/v1/${a}/c?format=json`)).status).toBe(200);
    // One 404 and two errors is no quorum.
    expect((await call(url, 'GET', `/v1/${a}/c/missing`)).status).toBe(503);
  });
});

describe('backends that accept and never answer', () => {
  // Note: undici's timers have a resolution of about a second, so node_timeout = 0.5 costs up
  // to ~1 s per hanging node here; the assertions are about returning at all, not latency.
  it('answers 503 to a container PUT when two container replicas hang', { timeout: 20_000 }, async () => {
    const url = await proxy(rings(['live', 'hang', 'hang'], ['live', 'live', 'live']));
    const a = uniq('AUTH_q');
    expect((await call(url, 'PUT', `/v1/${a}/c`, {}, { timeoutMs: 15_000 })).status).toBe(503);
  });

  it('answers 503 to an account HEAD when every replica hangs, and stays healthy', { timeout: 20_000 }, async () => {
    const all = await proxy(rings(['hang', 'hang', 'hang']));
    const a = uniq('AUTH_q');
    expect((await call(all, 'HEAD', `/v1/${a}`, {}, { timeoutMs: 15_000 })).status).toBe(503);
    expect((await call(all, 'GET', '/healthcheck')).status).toBe(200);
  });

  it('answers 503 to an object PUT when two object replicas hang', { timeout: 20_000 }, async () => {
    const a = uniq('AUTH_q');
    expect((await call(allUp, 'PUT', `/v1/${a}/c`)).status).toBe(201);
    const r = rings(['live', 'live', 'live']);
    r.object = rings(['hang', 'live', 'hang']).object;
    const url = await proxy(r);
    const put = await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '1' }, { body: 'x', timeoutMs: 15_000 });
    expect(put.status).toBe(503);
  });
});
