/**
 * The kill -9 loop (scripts/kill-loop.ts) in CI: 120 writes with a fixed seed through a proxy to
 * nine storage server processes (three nodes of account, container and object servers), killed
 * with SIGKILL at random and aimed at writes part way through their bodies, then started again
 * on their ports. Every 201 must read back whole, through the proxy and from a quorum of
 * replicas; a failed write may be absent or whole, never truncated; the proxy answers only 201 or
 * 503. The long run (`npm run kill-loop -- --writes 1000`) is in docs/reliability.md.
 *
 * The checks are shown to catch damage: before they run, 16 bytes in the middle of one stored
 * replica (the largest .data file) are changed, and exactly that object must be reported, read
 * with the wrong MD5. (A truncated .data file needs no such check: its object server finds the
 * metadata trailer broken and quarantines it, and the replica count then reports a 201 with fewer
 * than two copies.)
 *
 * SLUICE_KILL_FIGURES=<file> appends the run's summary there.
 */
import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { killLoopFailed, corruptMiddle, largestDataFile, runKillLoop, summary } from '../../scripts/kill-loop';

const SEED = 20261203;

describe('storage servers killed with SIGKILL during writes', () => {
  it('lose no write that got 201 and show no failed write truncated', async () => {
    let damaged: string | undefined;
    const r = await runKillLoop({
      writes: 120,
      seed: SEED,
      concurrency: 3,
      maxBytes: 512 * 1024,
      killGapMs: [100, 600],
      downMs: [0, 500],
      beforeVerify: (dir) => {
        damaged = largestDataFile(dir);
        if (damaged) corruptMiddle(damaged);
      },
    });
    const report = summary(r);
    if (process.env.SLUICE_KILL_FIGURES) appendFileSync(process.env.SLUICE_KILL_FIGURES, `${report}\n`);
    expect(r.writes, report).toBe(120);
    // Something was killed, some of it mid-PUT, and writes still succeeded.
    expect(r.kills, report).toBeGreaterThanOrEqual(3);
    expect(r.midPutKills, report).toBeGreaterThanOrEqual(1);
    expect(r.byStatus['201'] ?? 0, report).toBeGreaterThan(0);
    expect(Object.keys(r.byStatus).every((s) => s === '201' || s === '503'), report).toBe(true);
    expect(r.verified + r.failedAbsent + r.failedWhole, report).toBeGreaterThanOrEqual(r.writes - 1);

    // The damaged replica is the one failure: its object by name (and its quarantine), nothing else.
    expect(damaged, report).toBeDefined();
    const named = r.failures.filter((f) => !f.startsWith('quarantined by the object servers'));
    expect(named.length, report).toBeGreaterThanOrEqual(1);
    const names = new Set(named.map((f) => /^(o\d{6}) /.exec(f)?.[1]));
    expect(names.size, report).toBe(1);
    expect([...names][0], report).toMatch(/^o\d{6}$/);
    expect(r.quarantined, report).toBeLessThanOrEqual(1);
    expect(killLoopFailed(r)).toBe(true);
  }, 180_000);
});
