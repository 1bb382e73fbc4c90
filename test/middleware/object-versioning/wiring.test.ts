/**
 * How object versioning is configured, as Swift's versioned_writes filter_factory wires it:
 * only with `allow_object_versioning = true`, advertised as `object_versioning` in /info, and
 * only with symlink in the pipeline. And the reserved-namespace rules the storage servers
 * apply to the names it uses (Swift's validate_internal_obj, check_utf8(internal=True)).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { DEV_PROXY_CONF } from '../../../src/cluster/dev-cluster';
import { backendPath } from '../../../src/common/backend-client';
import { send, Session } from '../../conformance/replayer';
import { call } from '../../proxy/helpers';
import { OV_PROXY_CONF } from './conf';

const clusters: TestCluster[] = [];
afterAll(async () => {
  for (const c of clusters) await c.stop();
});

async function start(conf: string): Promise<{ cluster: TestCluster; token: string }> {
  const cluster = await startCluster({ proxyConfig: conf });
  clusters.push(cluster);
  return { cluster, token: (await new Session(cluster.url).login('test:tester')).token };
}

describe('filter wiring', () => {
  it('allow_object_versioning turns it on and adds /info object_versioning next to versioned_writes', async () => {
    const { cluster, token } = await start(OV_PROXY_CONF);
    const info = JSON.parse((await send(cluster.url, 'GET', '/info', {})).body.toString()) as Record<string, unknown>;
    expect(info.object_versioning).toEqual({});
    expect(info.versioned_writes).toEqual({ allowed_flags: ['x-versions-location', 'x-history-location'] });
    expect((await send(cluster.url, 'PUT', '/v1/AUTH_test/wired', { 'X-Auth-Token': token, 'X-Versions-Enabled': 'true' })).status).toBe(201);
    expect((await send(cluster.url, 'HEAD', '/v1/AUTH_test/wired', { 'X-Auth-Token': token })).headers['x-versions-enabled']).toBe('True');
  }, 60_000);

  it('without it, X-Versions-Enabled is an unknown header and /info has no section', async () => {
    const { cluster, token } = await start(DEV_PROXY_CONF);
    const info = JSON.parse((await send(cluster.url, 'GET', '/info', {})).body.toString()) as Record<string, unknown>;
    expect(info.object_versioning).toBeUndefined();
    expect((await send(cluster.url, 'PUT', '/v1/AUTH_test/plain', { 'X-Auth-Token': token, 'X-Versions-Enabled': 'true' })).status).toBe(201);
    expect((await send(cluster.url, 'HEAD', '/v1/AUTH_test/plain', { 'X-Auth-Token': token })).headers['x-versions-enabled']).toBeUndefined();
    const put = await send(cluster.url, 'PUT', '/v1/AUTH_test/plain/o', { 'X-Auth-Token': token }, 'x');
    expect([put.status, put.headers['x-object-version-id']]).toEqual([201, undefined]);
  }, 60_000);

  it('without symlink in the pipeline the proxy does not start, as Swift', async () => {
    const conf = OV_PROXY_CONF.replace(' versioned_writes symlink ', ' versioned_writes ');
    await expect(startCluster({ proxyConfig: conf })).rejects.toThrow(/object versioning requires symlinks/);
  }, 60_000);
});

describe('reserved names on the object server', () => {
  it('takes NUL-led objects in NUL-led containers only, as Swift 2.30', async () => {
    const { cluster } = await start(OV_PROXY_CONF);
    const ring = cluster.proxy.state.rings.object.get(0)!;
    const ts = (Date.now() / 1000).toFixed(5);
    const put = async (container: string, object: string) => {
      const part = ring.getPart('AUTH_x', container, object);
      const node = ring.getPartNodes(part)[0]!;
      const headers = { 'X-Timestamp': ts, 'Content-Type': 'text/plain', 'Content-Length': '1', 'X-Backend-Storage-Policy-Index': '0' };
      return call(`http://${node.ip}:${node.port}`, 'PUT', backendPath(node, part, `/AUTH_x/${container}/${object}`), headers, { body: 'x' });
    };
    expect((await put('\0versions\0c', '\0o\x009999')).status).toBe(201);
    for (const [container, object, body] of [
      ['c', '\0o', 'Invalid reserved-namespace object in user-namespace container'],
      ['\0versions\0c', 'o', 'Invalid user-namespace object in reserved-namespace container'],
      ['c', 'o\0x', 'Invalid reserved-namespace object'],
      ['c\0x', 'o', 'Invalid reserved-namespace container'],
    ]) {
      const res = await put(container!, object!);
      expect([JSON.stringify(container), res.status, res.text]).toEqual([JSON.stringify(container), 400, body]);
    }
  }, 60_000);
});
