/**
 * healthcheck through a whole cluster, as Swift 2.30's HealthCheckMiddleware answers: any method
 * on `/healthcheck` (matched after percent-decoding, as swob's req.path) gets 200 "OK" as
 * text/plain, or 503 "DISABLED BY FILE" while the file `disable_path` names exists; HEAD keeps
 * the Content-Length; other paths go on through the pipeline.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { proxyConf } from '../helpers/proxy-conf';
import { call } from '../proxy/helpers';

describe('healthcheck with disable_path', () => {
  let cl: TestCluster;
  let dir: string;
  let disableFile: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-healthcheck-'));
    disableFile = join(dir, 'disabled');
    const conf = proxyConf({ pipeline: ['catch_errors', 'healthcheck', 'cache', 'tempauth'], sections: { healthcheck: `disable_path = ${disableFile}`, tempauth: 'dev_users = true' } });
    cl = await startCluster({ proxyConfig: conf });
  }, 60_000);
  afterAll(async () => {
    await cl?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers OK to any method, and to the path percent-encoded', async () => {
    for (const [method, path] of [['GET', '/healthcheck'], ['POST', '/healthcheck'], ['DELETE', '/healthcheck?x=1'], ['GET', '/%68ealthcheck']]) {
      const r = await call(cl.url, method!, path!);
      expect([method, path, r.status, r.text, r.headers['content-type'], r.headers['content-length']]).toEqual([method, path, 200, 'OK', 'text/plain', '2']);
    }
    const head = await call(cl.url, 'HEAD', '/healthcheck');
    expect([head.status, head.text, head.headers['content-length']]).toEqual([200, '', '2']);
  });

  it('answers 503 DISABLED BY FILE while the file exists, whatever it holds, and OK again once removed', async () => {
    writeFileSync(disableFile, 'maintenance');
    try {
      const r = await call(cl.url, 'GET', '/healthcheck');
      expect([r.status, r.text, r.headers['content-type'], r.headers['content-length']]).toEqual([503, 'DISABLED BY FILE', 'text/plain', '16']);
      const head = await call(cl.url, 'HEAD', '/%68ealthcheck');
      expect([head.status, head.text, head.headers['content-length']]).toEqual([503, '', '16']);
      // The rest of the proxy keeps serving: only the balancer's probe is refused.
      expect((await call(cl.url, 'GET', '/auth/v1.0', { 'x-auth-user': 'test:tester', 'x-auth-key': 'testing' })).status).toBe(200);
    } finally {
      rmSync(disableFile);
    }
    // A directory at that path counts too (os.path.exists).
    mkdirSync(disableFile);
    expect((await call(cl.url, 'GET', '/healthcheck')).status).toBe(503);
    rmSync(disableFile, { recursive: true });
    expect((await call(cl.url, 'GET', '/healthcheck')).text).toBe('OK');
  });

  it('leaves other paths to the pipeline', async () => {
    expect((await call(cl.url, 'GET', '/healthcheck/')).status).not.toBe(200);
    expect((await call(cl.url, 'GET', '/healthcheckx')).status).not.toBe(200);
  });
});
