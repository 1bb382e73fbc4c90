/**
 * The storage servers answer `/healthcheck` as Swift's do with `healthcheck` first in their
 * sample pipelines: 200 "OK" to any method, the percent-encoded path too, while a path that only
 * starts like it is still the server's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccountServer } from '../../servers/account/server';
import { startContainerServer } from '../../servers/container/server';
import { startObjectServer } from '../../servers/object/server';
import type { RunningServer } from '../../servers/common/http';
import { makeDevices } from '../helpers/tmp';
import { req, testConf } from './object/helpers';

const devs = makeDevices(['sda']);
const servers: Record<string, RunningServer> = {};

beforeAll(async () => {
  const opts = { devices: devs.dir, swiftConf: testConf(), updaterInterval: 0 };
  servers.account = await startAccountServer(opts);
  servers.container = await startContainerServer(opts);
  servers.object = await startObjectServer(opts);
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
  devs.remove();
});

describe.each(['account', 'container', 'object'])('%s-server /healthcheck', (kind) => {
  it('answers 200 OK to GET, HEAD (no body) and any other method', async () => {
    const url = servers[kind]!.url;
    for (const path of ['/healthcheck', '/%68ealthcheck']) {
      const get = await req(url, 'GET', path);
      expect([get.status, get.headers['content-type'], get.body.toString()]).toEqual([200, 'text/plain', 'OK']);
      const head = await req(url, 'HEAD', path);
      expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, '2', 0]);
      const put = await req(url, 'PUT', path);
      expect([put.status, put.body.toString()]).toEqual([200, 'OK']);
    }
  });

  it('leaves other paths to the server', async () => {
    const r = await req(servers[kind]!.url, 'GET', '/healthcheckx');
    expect(r.status).toBe(400);
  });
});
