/**
 * Clusters for the large-object tests: the development pipeline with slo and dlo where Swift's
 * SAIO puts them (after the quotas, before versioned_writes), segment rate limiting off, and a
 * request helper that reports a body cut short instead of failing on it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { DEV_PROXY_CONF } from '../../../src/cluster/dev-cluster';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { Session } from '../../conformance/replayer';

export interface LoResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** False when the connection was cut before the whole body arrived. */
  complete: boolean;
}

/** The development config (slo and dlo in its pipeline) with extra lines for their sections. */
export function largeObjectConf(slo = '', dlo = ''): string {
  const section = (name: string, lines: string) => {
    const head = `[filter:${name}]\nuse = egg:swift#${name}\n`;
    if (!DEV_PROXY_CONF.includes(head)) throw new Error(`DEV_PROXY_CONF has no [filter:${name}]`);
    return (conf: string) => conf.replace(head, `${head}rate_limit_segments_per_sec = 0\n${lines}\n`);
  };
  return section('dlo', dlo)(section('slo', slo)(DEV_PROXY_CONF));
}

export interface LoCluster {
  cluster: TestCluster;
  token: string;
  /** test2:tester2, an admin of another account. */
  otherToken: string;
  req(method: string, path: string, headers?: Record<string, string>, body?: string | Buffer, token?: string): Promise<LoResponse>;
  /** A fresh container in AUTH_test. */
  container(prefix: string): Promise<string>;
  stop(): Promise<void>;
}

export interface LoClusterOptions {
  /** Extra lines of [filter:slo] and [filter:dlo]. */
  slo?: string;
  dlo?: string;
  /** A [swift-constraints] section's lines for swift.conf. */
  constraints?: string;
}

export async function startLoCluster(opts: LoClusterOptions = {}): Promise<LoCluster> {
  let dataDir: string | undefined;
  if (opts.constraints) {
    dataDir = mkdtempSync(join(tmpdir(), 'sluice-lo-'));
    mkdirSync(join(dataDir, 'etc'));
    writeFileSync(
      join(dataDir, 'etc', 'swift.conf'),
      `[swift-hash]\nswift_hash_path_suffix = lo-test\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n\n[swift-constraints]\n${opts.constraints}\n`,
    );
  }
  const cluster = await startCluster({ proxyConfig: largeObjectConf(opts.slo, opts.dlo), ...(dataDir ? { dataDir } : {}) });
  const session = new Session(cluster.url);
  const token = (await session.login('test:tester')).token;
  const otherToken = (await session.login('test2:tester2')).token;
  const url = new URL(cluster.url);
  let seq = 0;
  const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer, tok: string | null = token): Promise<LoResponse> =>
    new Promise((resolve, reject) => {
      const h: Record<string, string> = { ...(tok ? { 'X-Auth-Token': tok } : {}), ...headers };
      const buf = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
      if (buf) h['Content-Length'] = String(buf.length);
      else if (method === 'PUT' || method === 'POST') h['Content-Length'] ??= '0';
      const r = request({ host: url.hostname, port: url.port, method, path, headers: h, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        let complete = false;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (complete = true));
        res.on('error', () => undefined);
        res.on('close', () => {
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) out[k] = Array.isArray(v) ? v.join(', ') : (v ?? '');
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks), complete: complete && !res.aborted });
        });
      });
      r.on('error', reject);
      r.setTimeout(30_000, () => r.destroy(new Error(`timeout on ${method} ${path}`)));
      r.end(buf);
    });
  expect((await req('POST', '/v1/AUTH_test')).status).toBe(204);
  return {
    cluster,
    token,
    otherToken,
    req: (method, path, headers, body, tok) => req(method, path, headers, body, tok ?? token),
    async container(prefix) {
      seq += 1;
      const c = `${prefix}${process.pid}x${seq}x${Math.random().toString(36).slice(2, 7)}`;
      expect((await req('PUT', `/v1/AUTH_test/${c}`)).status).toBe(201);
      return c;
    },
    async stop() {
      await cluster.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const md5 = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');

/** One cluster for a test file, started before its tests and stopped after them. */
export function loSuite(opts: LoClusterOptions = {}): LoCluster {
  let lo: LoCluster | undefined;
  beforeAll(async () => {
    lo = await startLoCluster(opts);
  }, 60_000);
  afterAll(async () => {
    await lo?.stop();
  });
  const get = (): LoCluster => {
    if (!lo) throw new Error('the large-object cluster has not started');
    return lo;
  };
  return {
    get cluster() {
      return get().cluster;
    },
    get token() {
      return get().token;
    },
    get otherToken() {
      return get().otherToken;
    },
    req: (...args) => get().req(...args),
    container: (prefix) => get().container(prefix),
    stop: () => get().stop(),
  };
}
