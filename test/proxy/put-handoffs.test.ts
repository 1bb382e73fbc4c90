/**
 * Object PUT with a primary that cannot take the write (Swift's _connect_put_node): the slot
 * goes to the next handoff, so the object still has three copies. An object ring of four
 * devices (three replicas) whose nodes are fake servers in front of one real object server,
 * so a primary can refuse connections or answer 507 while the others store.
 */
import pino from 'pino';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevices } from '../helpers/tmp';
import { startAccountServer, startContainerServer, startObjectServer, type RunningServer } from '../../servers/index';
import { parseSwiftConf } from '../../src/common/swift-conf';
import { backendPath } from '../../src/common/backend-client';
import { buildRing, Ring } from '../../src/common/ring';
import { parseProxyConfig } from '../../src/proxy/config';
import { startProxyServer, type RunningProxy } from '../../src/proxy/server';
import { startFakeServer, type FakeServer } from '../../src/testing/index';
import { call, OWNER, proxyConf, uniq } from './helpers';

const swiftConf = parseSwiftConf('[swift-hash]\nswift_hash_path_suffix = put-handoffs\n\n[storage-policy:0]\nname = gold\ndefault = yes\n');
const devices = makeDevices(['d1', 'd2', 'd3', 'd4']);
const servers: RunningServer[] = [];
const fakes: FakeServer[] = [];
let objectRing: Ring;
let proxy: RunningProxy;
let objectPort: number;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

beforeAll(async () => {
  const common = { devices: devices.dir, swiftConf };
  const account = await startAccountServer(common);
  const container = await startContainerServer(common);
  const object = await startObjectServer(common);
  servers.push(account, container, object);
  objectPort = object.port;
  const ring = (port: (i: number) => number, n: number) =>
    new Ring(null, buildRing({ partPower: 4, replicas: Math.min(3, n), devices: Array.from({ length: n }, (_, i) => ({ region: 1, zone: i + 1, ip: '127.0.0.1', port: port(i), device: `d${i + 1}` })) }), swiftConf.hash);
  for (let i = 0; i < 4; i++) fakes.push(await startFakeServer({ behaviour: { kind: 'pass' }, upstream: `http://127.0.0.1:${object.port}` }));
  objectRing = ring((i) => fakes[i]!.port, 4);
  proxy = await startProxyServer({
    config: parseProxyConfig(proxyConf({ conn_timeout: '0.5', node_timeout: '3' })),
    rings: { account: ring(() => account.port, 3), container: ring(() => container.port, 3), object: new Map([[0, objectRing]]) },
    swiftConf,
    port: 0,
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await proxy?.close();
  for (const f of fakes) await f.close();
  for (const s of servers) await s.close();
  devices.remove();
});

/** Which of the four devices hold the object (asked of the real object server directly). */
async function holders(a: string, c: string, o: string): Promise<string[]> {
  const part = objectRing.getPart(a, c, o);
  const out: string[] = [];
  for (const device of ['d1', 'd2', 'd3', 'd4']) {
    const r = await call(`http://127.0.0.1:${objectPort}`, 'HEAD', backendPath({ device } as never, part, `/${a}/${c}/${o}`));
    if (r.status === 200) out.push(device);
  }
  return out;
}

async function withPrimaryDown(behaviour: Parameters<FakeServer['setBehaviour']>[0], body: Buffer, streamed: boolean) {
  const a = uniq('AUTH_h');
  const c = 'c';
  const o = uniq('o');
  expect((await call(proxy.url, 'PUT', `/v1/${a}/${c}`, OWNER)).status).toBe(201);
  const part = objectRing.getPart(a, c, o);
  const primaries = objectRing.getPartNodes(part).map((n) => n.device);
  const handoff = ['d1', 'd2', 'd3', 'd4'].find((d) => !primaries.includes(d))!;
  const down = fakes[Number(primaries[1]!.slice(1)) - 1]!;
  await down.setBehaviour(behaviour);
  try {
    const headers: Record<string, string> = { ...OWNER, ...(streamed ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(body.length) }) };
    const put = await call(proxy.url, 'PUT', `/v1/${a}/${c}/${o}`, headers, { body: streamed ? Readable.from([body.subarray(0, 70_000), body.subarray(70_000)]) : body });
    expect(put.status).toBe(201);
    expect(put.headers.etag).toBe(md5(body));
  } finally {
    await down.setBehaviour({ kind: 'pass' });
  }
  expect((await holders(a, c, o)).sort()).toEqual([primaries[0]!, primaries[2]!, handoff].sort());
  const got = await call(proxy.url, 'GET', `/v1/${a}/${c}/${o}`, OWNER);
  expect(got.status).toBe(200);
  expect(md5(got.raw)).toBe(md5(body));
}

describe('object PUT with a primary down goes to a handoff', () => {
  it('a primary refusing connections: a small body', () => withPrimaryDown({ kind: 'refuse' }, randomBytes(2_000), false));
  it('a primary refusing connections: a streamed body of unknown length', () => withPrimaryDown({ kind: 'refuse' }, randomBytes(300_000), true));
  it('a primary answering 507 (unmounted drive): a small body', () => withPrimaryDown({ kind: 'status', status: 507 }, randomBytes(2_000), false));
});
