/**
 * X-Container-Sync-To realm values (`//realm/cluster/account/container`) checked against
 * `<swift_dir>/container-sync-realms.conf`, as Swift's container server does; a realms file that
 * cannot be parsed stops the server at start-up.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContainerServer, type RunningServer } from '../../../servers/index';
import { makeDevices } from '../../helpers/tmp';
import { call } from './helpers';

const swiftDir = mkdtempSync(join(tmpdir(), 'sluice-realms-'));
writeFileSync(join(swiftDir, 'swift.conf'), '[swift-hash]\nswift_hash_path_suffix = realms\n\n[storage-policy:0]\nname = gold\ndefault = yes\n');
writeFileSync(join(swiftDir, 'container-sync-realms.conf'), '[realm1]\nkey = realm1key\ncluster_east = https://east.example.com/v1/\n\n[nokey]\ncluster_x = https://x.example.com/v1/\n');
const devices = makeDevices(['sda']);
let server: RunningServer;
let n = 0;
const ts = () => `${Math.floor(Date.now() / 1000) + ++n}.00000`;

beforeAll(async () => {
  server = await startContainerServer({ devices: devices.dir, swiftDir, updaterInterval: 0 });
});
afterAll(async () => {
  await server?.close();
  devices.remove();
  rmSync(swiftDir, { recursive: true, force: true });
});

describe('X-Container-Sync-To with realms', () => {
  it.each([
    ['//realm1/east/AUTH_b/c2', 201, ''],
    ['//REALM1/EAST/AUTH_b/c2/', 201, ''],
    ['//realm1/west/AUTH_b/c2', 400, "No cluster endpoint for 'realm1' 'west'"],
    ['//realm2/east/AUTH_b/c2', 400, "No realm key for 'realm2'"],
    ['//nokey/x/AUTH_b/c2', 400, "No realm key for 'nokey'"],
    ['//realm1/east/AUTH_b', 400, "Invalid X-Container-Sync-To format '//realm1/east/AUTH_b'"],
  ])('%s: %i %s', async (value, status, body) => {
    const r = await call(server.url, 'PUT', `/sda/1/a/c${++n}`, { 'X-Timestamp': ts(), 'X-Container-Sync-To': value });
    expect(r.status).toBe(status);
    if (body) expect(r.text).toBe(body);
  });
});

it('refuses to start with a realms file that cannot be parsed', async () => {
  const bad = mkdtempSync(join(tmpdir(), 'sluice-realms-bad-'));
  writeFileSync(join(bad, 'swift.conf'), '[swift-hash]\nswift_hash_path_suffix = realms\n\n[storage-policy:0]\nname = gold\ndefault = yes\n');
  writeFileSync(join(bad, 'container-sync-realms.conf'), '[realm1\nkey = x\n');
  try {
    await expect(startContainerServer({ devices: devices.dir, swiftDir: bad, updaterInterval: 0 })).rejects.toThrow(/container-sync-realms\.conf/);
  } finally {
    rmSync(bad, { recursive: true, force: true });
  }
});
