/**
 * A cluster with Swift's development pipeline and object versioning on
 * (`[filter:versioned_writes] allow_object_versioning = true`), logged in as TempAuth's
 * development users, with a fresh container name per call.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { send, Session } from '../../conformance/replayer';
import { OV_PROXY_CONF } from './conf';
import { call, direct } from '../../proxy/helpers';
import { backendPath } from '../../../src/common/backend-client';

export interface VersionEntry {
  name: string;
  bytes: number;
  hash: string;
  content_type: string;
  last_modified: string;
  version_id: string;
  is_latest: boolean;
  subdir?: string;
}

export interface Ov {
  cluster: TestCluster;
  /** A request as test:tester (an admin of AUTH_test) unless another token is given. */
  req(method: string, path: string, headers?: Record<string, string>, body?: string, token?: string): ReturnType<typeof send>;
  token(user: string): Promise<string>;
  /** A new container, with versioning enabled unless told otherwise. */
  container(enabled?: boolean): Promise<string>;
  versions(container: string, query?: string): Promise<VersionEntry[]>;
}

let seq = 0;

export async function startOv(): Promise<Ov> {
  const cluster = await startCluster({ proxyConfig: OV_PROXY_CONF });
  const session = new Session(cluster.url);
  const tok = (await session.login('test:tester')).token;
  const req: Ov['req'] = (method, path, headers = {}, body, token = tok) => send(cluster.url, method, path, { 'X-Auth-Token': token, ...headers }, body);
  return {
    cluster,
    req,
    token: async (user) => (await session.login(user)).token,
    async container(enabled = true) {
      seq += 1;
      const c = `ov${process.pid}x${seq}x${Math.random().toString(36).slice(2, 7)}`;
      const res = await req('PUT', `/v1/AUTH_test/${c}`, enabled ? { 'X-Versions-Enabled': 'true' } : {});
      expect(res.status).toBe(201);
      return c;
    },
    async versions(c, query = '') {
      const res = await req('GET', `/v1/AUTH_test/${c}?versions&format=json${query}`);
      expect(res.status, res.body.toString()).toBe(200);
      return JSON.parse(res.body.toString()) as VersionEntry[];
    },
  };
}

/** The hidden versions container of `c` as every container server replica has it. */
export async function hiddenContainer(ov: Ov, c: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }[]> {
  return direct(ov.cluster.proxy.state.rings.container, 'HEAD', ['AUTH_test', `\0versions\0${c}`]);
}

/** The stored objects of `c`'s hidden versions container (names as stored, NUL-led). */
export async function hiddenListing(ov: Ov, c: string): Promise<{ name: string; content_type: string; bytes: number }[]> {
  const ring = ov.cluster.proxy.state.rings.container;
  const name = `\0versions\0${c}`;
  const part = ring.getPart('AUTH_test', name);
  const node = ring.getPartNodes(part)[0]!;
  const res = await call(`http://${node.ip}:${node.port}`, 'GET', backendPath(node, part, `/AUTH_test/${name}`, 'format=json'), { 'X-Backend-Allow-Reserved-Names': 'true' });
  expect(res.status).toBe(200);
  return JSON.parse(res.text) as { name: string; content_type: string; bytes: number }[];
}

/** One cluster for the test file: started before its tests, stopped after them. */
export function useOv(): Ov {
  let inner: Ov | undefined;
  beforeAll(async () => {
    inner = await startOv();
  }, 60_000);
  afterAll(async () => {
    await inner?.cluster.stop();
  });
  const get = (): Ov => {
    if (!inner) throw new Error('the cluster has not started');
    return inner;
  };
  return {
    get cluster() {
      return get().cluster;
    },
    req: (...args) => get().req(...args),
    token: (user) => get().token(user),
    container: (enabled) => get().container(enabled),
    versions: (c, query) => get().versions(c, query),
  };
}
