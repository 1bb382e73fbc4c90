import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The real python-swiftclient CLI against `sluice start` (scripts/swiftclient-smoke.sh). It may
 * apt-get install python3-swiftclient, so it only runs when asked, like the other interop
 * smokes: SLUICE_INTEROP=1 npx vitest run test/interop (CI runs `npm run smoke:swiftclient`).
 */
const enabled = process.env.SLUICE_INTEROP === '1';

describe.skipIf(!enabled)('python-swiftclient smoke against sluice start (SLUICE_INTEROP=1)', () => {
  it('passes every check of the smoke script', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const r = spawnSync('bash', ['scripts/swiftclient-smoke.sh'], { cwd: root, encoding: 'utf8', timeout: 400_000 });
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('FAIL')), r.stdout + r.stderr).toEqual([]);
    expect(lines.filter((l) => l.startsWith('PASS')).length).toBeGreaterThan(150);
    expect(r.status, r.stderr).toBe(0);
  }, 420_000);
});
