/**
 * `sluice start --policy FILE`: the built-in cluster decides with the file's rules, and every
 * proxy worker takes a change to the file without a restart. Each request below is a new
 * connection, which node:cluster hands to the workers in turn, so a worker that kept the old
 * rules would answer some of them differently.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../conformance/replayer';
import { startSluice, type SluiceChild } from '../readme/runner';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-start-policy-'));
const policyFile = join(tmp, 'policy.yaml');
let sluice: SluiceChild | undefined;
let token = '';

/** Statuses of `n` account listings by the owner, one connection each. */
async function listings(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(sluice!.url, 'GET', '/v1/AUTH_test', { 'X-Auth-Token': token, Connection: 'close' })).status);
  return out;
}

/** Waits until `n` listings in a row answer `status` (the workers look at the file once a second). */
async function settlesTo(status: number, n = 8): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  let last: number[] = [];
  while (Date.now() < deadline) {
    last = await listings(n);
    if (last.every((s) => s === status)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

beforeAll(async () => {
  writeFileSync(policyFile, '{}\n');
  sluice = await startSluice(['--data-dir', join(tmp, 'data'), '--port', '0', '--storage-ports', '0,0,0', '--workers', '2', '--policy', policyFile]);
  const auth = await send(sluice.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' });
  token = auth.headers['x-auth-token']!;
  expect((await send(sluice.url, 'PUT', '/v1/AUTH_test/c', { 'X-Auth-Token': token })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await sluice?.stop();
  rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe('sluice start --policy', () => {
  it('every worker follows the file as it changes, without a restart', async () => {
    expect(await listings(6)).toEqual([200, 200, 200, 200, 200, 200]);
    writeFileSync(policyFile, '"swift:account:get": "rule:swift:reseller_admin"\n');
    expect(await settlesTo(403)).toEqual(Array(8).fill(403));
    // Other rules are untouched: the owner still reads the container.
    expect((await send(sluice!.url, 'GET', '/v1/AUTH_test/c', { 'X-Auth-Token': token })).status).toBe(204);
    // A broken version is refused: the last good rules stay, in every worker.
    writeFileSync(policyFile, '"swift:account:get": "rule:swift:reseller_admin or"\n');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await listings(8)).toEqual(Array(8).fill(403));
    // The workers' log is buffered (flushed every few hundred ms): wait for the line.
    const logged = async () => {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
        if (/policy file not reloaded: the rules loaded before stay in force/.test(sluice!.log())) return true;
      }
      return false;
    };
    expect(await logged(), sluice!.log()).toBe(true);
    writeFileSync(policyFile, '{}\n');
    expect(await settlesTo(200)).toEqual(Array(8).fill(200));
  }, 60_000);
});
