/**
 * An owner cannot brick a container with long header values: a container whose read and write
 * ACLs and versions location are each about 8,000 characters (accepted, as Swift accepts them)
 * answers with ~17 KB of headers from the container server, which the proxy must read.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { Session, send } from '../conformance/replayer';

let cluster: TestCluster;
let token: string;

beforeAll(async () => {
  cluster = await startCluster();
  token = (await new Session(cluster.url).login('test:tester')).token;
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

it('a container with 8,000-character ACLs and versions location keeps working', async () => {
  const h = { 'X-Auth-Token': token };
  expect((await send(cluster.url, 'PUT', '/v1/AUTH_test/big', h)).status).toBe(201);
  const acl = Array.from({ length: 800 }, (_, i) => `acct${String(i).padStart(4, '0')}`).join(',').slice(0, 8000).replace(/,[^,]*$/, '');
  const versions = 'v'.repeat(8000);
  const post = await send(cluster.url, 'POST', '/v1/AUTH_test/big', { ...h, 'X-Container-Read': acl, 'X-Container-Write': acl, 'X-Versions-Location': versions });
  expect(post.status).toBe(204);
  const head = await send(cluster.url, 'HEAD', '/v1/AUTH_test/big', h);
  expect(head.status).toBe(204);
  expect(head.headers['x-container-read']).toBe(acl);
  expect(head.headers['x-versions-location']).toBe(versions);
  expect((await send(cluster.url, 'PUT', '/v1/AUTH_test/big/o', h, 'data')).status).toBe(201);
  expect((await send(cluster.url, 'GET', '/v1/AUTH_test/big/o', h)).body.toString()).toBe('data');
  expect((await send(cluster.url, 'GET', '/v1/AUTH_test/big', h)).status).toBe(200);
});
