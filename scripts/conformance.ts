/**
 * Replays the Swift conformance scenarios against any endpoint (sluice, or a real Swift with
 * the README's users):  npx tsx scripts/conformance.ts --target http://127.0.0.1:8080 [--only ID]
 * Prints each failing step and a closing `N passed, N failed` line (steps); exits 1 on failures.
 */
import { parseArgs } from 'node:util';
import { loadScenarioFiles, runScenario, Session } from '../test/conformance/replayer';

const { values } = parseArgs({ options: { target: { type: 'string' }, only: { type: 'string' } } });
if (!values.target) {
  console.error('usage: tsx scripts/conformance.ts --target URL [--only SCENARIO_ID_PREFIX]');
  process.exit(2);
}
const session = new Session(values.target);
let passed = 0;
let failed = 0;
for (const file of loadScenarioFiles()) {
  for (const scenario of file.scenarios) {
    if (values.only && !scenario.id.startsWith(values.only)) continue;
    const results = await runScenario(session, scenario);
    for (const r of results) {
      if (r.problems.length === 0) passed++;
      else {
        failed++;
        console.log(`FAIL ${scenario.id}${scenario.quirk ? ' (quirk)' : ''} step ${r.index} ${r.step.as} ${r.step.method} ${r.step.path}\n  ${r.problems.join('\n  ')}`);
      }
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
