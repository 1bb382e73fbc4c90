/** `npm run bench:auth` runs (on the fake Keystone) and prints its three rows for each round. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('measures TempAuth (owner and account-ACL grantee) and authtoken + keystoneauth per request, three rounds', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_AUTH_REQUESTS: '500' };
  delete env.KEYSTONE_FIXTURES;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../scripts/bench-auth.ts')], { env, timeout: 60_000 });
  expect(stdout).toMatch(/^auth filters alone, one owner HEAD each \(and an ACL grantee's\); Keystone: fake Keystone at http:\/\/127\.0\.0\.1:\d+\/v3$/m);
  expect(stdout.match(/^tempauth \(identify \+ authorize\): \d+\.\d\d µs\/request$/gm)).toHaveLength(3);
  expect(stdout.match(/^tempauth, account-ACL grantee \(identify \+ authorize\): \d+\.\d\d µs\/request$/gm)).toHaveLength(3);
  expect(stdout.match(/^authtoken \+ keystoneauth \(cached token\): \d+\.\d\d µs\/request$/gm)).toHaveLength(3);
}, 90_000);
