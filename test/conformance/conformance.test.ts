/**
 * Replays every recorded Swift conformance scenario against an in-process sluice cluster.
 * Scenarios where sluice deliberately differs from Swift (spec §6, `quirk`) run against
 * sluice's own expectations from sluice-expectations.ts, never as silent failures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { loadScenarioFiles, runScenario, send, Session } from './replayer';
import { CONFORMANCE_PROXY_CONF } from './cluster-config';
import { applyPatch, SLUICE_EXPECTATIONS } from './sluice-expectations';

/**
 * Scenarios that need middleware sluice does not have yet. They run as expected failures
 * (it.fails), so one that starts passing fails the suite until it is taken off this list.
 */
const PENDING: Record<string, string> = {
};

let cluster: TestCluster;
let session: Session;

beforeAll(async () => {
  cluster = await startCluster({ proxyConfig: CONFORMANCE_PROXY_CONF });
  session = new Session(cluster.url);
  // The recorded cluster's test accounts existed already; an account POST autocreates them.
  const admin = (await session.login('admin:admin')).token;
  const values = await session.placeholders();
  for (const acct of ['{AUTH_test}', '{AUTH_test2}', '{AUTH_test5}', '{SERVICE_test}']) {
    const res = await send(cluster.url, 'POST', `/v1/${values[acct]}`, { 'X-Auth-Token': admin });
    if (res.status !== 204) throw new Error(`could not create ${values[acct]}: ${res.status}`);
  }
});

afterAll(async () => {
  await cluster?.stop();
});

for (const file of loadScenarioFiles()) {
  describe(`${file.category}: ${file.title}`, () => {
    for (const scenario of file.scenarios) {
      const ours = SLUICE_EXPECTATIONS[scenario.id];
      const pending = PENDING[scenario.id];
      const test = pending ? it.fails : it;
      test(`${scenario.id}${ours ? ' (sluice expectation)' : ''}${pending ? ` (pending: ${pending})` : ''}`, async () => {
        const results = await runScenario(session, scenario, ours ? (i, step) => applyPatch(step.expect, ours.steps[i]) : undefined);
        const failures = results.filter((r) => r.problems.length > 0).map((r) => `step ${r.index} ${r.step.method} ${r.step.path}: ${r.problems.join('; ')}`);
        expect(failures).toEqual([]);
      });
    }
  });
}
