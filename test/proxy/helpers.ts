/**
 * Helpers for the proxy integration tests: raw HTTP requests (paths sent byte for byte),
 * clusters with a test-only owner filter, and direct requests to the storage servers behind
 * the proxy (to assert on what they stored).
 */
import { request } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { Readable } from 'node:stream';
import type { MiddlewareHandler } from 'hono';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { defineFilter, registerFilter } from '../../src/proxy/filter';
import type { ProxyEnv } from '../../src/proxy/context';
import type { Ring } from '../../src/common/ring';
import { backendPath } from '../../src/common/backend-client';

export interface Resp {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
  text: string;
}

export interface CallOptions {
  body?: string | Buffer | Readable;
  /** Extra request options (timeout in ms). */
  timeoutMs?: number;
}

/** One raw HTTP request with a fresh connection; header values may be latin-1 strings. */
export function call(base: string, method: string, path: string, headers: Record<string, string> = {}, opts: CallOptions = {}): Promise<Resp> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const r = request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, raw, text: raw.toString('utf8') });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    if (opts.timeoutMs) r.setTimeout(opts.timeoutMs, () => r.destroy(new Error('client timeout')));
    const body = opts.body;
    if (body === undefined) r.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) r.end(body);
    else body.pipe(r);
  });
}

/** Header names that must never reach a client. */
export function leakedHeaders(res: Resp): string[] {
  return Object.keys(res.headers).filter((k) =>
    /^(x-(account|container|object)-sysmeta-|x-object-transient-sysmeta-|x-backend)/i.test(k),
  );
}

/** Test-only filter: a request carrying `X-Test-Owner: yes` is a swift owner. */
export const ownerFilter: MiddlewareHandler<ProxyEnv> = async (c, next) => {
  if (c.get('headers').get('x-test-owner') === 'yes') c.set('swiftOwner', true);
  c.get('headers').delete('x-test-owner');
  await next();
};
registerFilter(defineFilter({ name: 'test_owner', options: () => ({}), create: () => ownerFilter }));

/**
 * Test-only authorizer: with `X-Test-Deny: yes`, every request is denied (403) unless the ACL
 * the controller passes (container read/write ACL, delayed denial) is `letmein`.
 */
export const denyFilter: MiddlewareHandler<ProxyEnv> = async (c, next) => {
  if (c.get('headers').get('x-test-deny') === 'yes') {
    c.set('authorize', async (_c, req) => (req.acl === 'letmein' ? undefined : new Response('denied by test', { status: 403 })));
  }
  c.get('headers').delete('x-test-deny');
  await next();
};
registerFilter(defineFilter({ name: 'test_deny', options: () => ({}), create: () => denyFilter }));

export function proxyConf(app: Record<string, string> = {}, extra = ''): string {
  const appLines = Object.entries({ account_autocreate: 'true', allow_account_management: 'true', ...app })
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');
  return `
[DEFAULT]
bind_ip = 127.0.0.1

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats test_owner test_deny proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
${appLines}

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:test_owner]
use = egg:sluice#test_owner

[filter:test_deny]
use = egg:sluice#test_deny
${extra}`;
}

export async function cluster(opts: { replicas?: number; app?: Record<string, string>; extra?: string } = {}): Promise<TestCluster> {
  return startCluster({ replicas: opts.replicas ?? 3, partPower: 4, proxyConfig: proxyConf(opts.app, opts.extra) });
}

export const OWNER = { 'X-Test-Owner': 'yes' };

let seq = 0;
/** A fresh name per test so tests share one cluster without interfering. */
export function uniq(prefix: string): string {
  seq += 1;
  return `${prefix}${process.pid}x${seq}x${Math.random().toString(36).slice(2, 8)}`;
}

/** Sends the same request to every primary storage node of the entity, returning all answers. */
export async function direct(
  ring: Ring,
  method: string,
  names: [string, string?, string?],
  headers: Record<string, string> = {},
): Promise<Resp[]> {
  const [a, c, o] = names;
  const part = ring.getPart(a, c, o);
  const path = '/' + [a, c, o].filter((x) => x !== undefined).join('/');
  const out: Resp[] = [];
  for (const node of ring.getPartNodes(part)) {
    out.push(await call(`http://${node.ip}:${node.port}`, method, backendPath(node, part, path), headers));
  }
  return out;
}

export function directTs(): string {
  return (Date.now() / 1000).toFixed(5).padStart(16, '0');
}

/** Sends raw bytes on a fresh socket and resolves with the raw response text once the server closes or answers fully. */
export function rawRequest(base: string, text: string | Buffer): Promise<{ status: number; text: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host: u.hostname, port: Number(u.port) }, () => sock.write(text));
    const chunks: Buffer[] = [];
    const finish = () => {
      const all = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(all);
      resolve({ status: m ? Number(m[1]) : 0, text: all });
    };
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      const all = Buffer.concat(chunks).toString('latin1');
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      const cl = /\r\ncontent-length: *(\d+)/i.exec(all.slice(0, end));
      if (cl && all.length - end - 4 >= Number(cl[1])) {
        sock.destroy();
        finish();
      }
    });
    sock.on('end', finish);
    sock.on('error', reject);
  });
}
