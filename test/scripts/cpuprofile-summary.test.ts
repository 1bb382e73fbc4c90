// scripts/cpuprofile-summary.ts on a hand-made profile whose times are known, and on a real one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSummary, main, summarize, type CpuProfile } from '../../scripts/cpuprofile-summary';

const ROOT = 'file:///app/';
const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

// root -> handler (app.js) -> hash (node:crypto) ; handler -> write (native) ; root -> (idle)
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5] },
    { id: 2, callFrame: frame('handler', `${ROOT}src/app.js`, 9), children: [3, 4] },
    { id: 3, callFrame: frame('hash', 'node:internal/crypto/hash', 87) },
    { id: 4, callFrame: frame('write') },
    { id: 5, callFrame: frame('(idle)') },
    { id: 6, callFrame: frame('lookup', `${ROOT}node_modules/lru-cache/dist/index.js`, 0) },
  ],
  // handler self 10, hash 30, write 20, idle 40 (microseconds)
  samples: [2, 3, 3, 4, 5, 5],
  timeDeltas: [10, 10, 20, 20, 15, 25],
};

const dir = mkdtempSync(join(tmpdir(), 'sluice-prof-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cpuprofile summary', () => {
  it('splits sampled time by function, by package and including callees', () => {
    const s = summarize([PROFILE], { root: ROOT, callers: 'hash' });
    expect(s.total).toBe(100);
    expect(s.self.map((r) => [r.name, r.time])).toEqual([
      ['(idle)', 40],
      ['hash node:internal/crypto/hash:88', 30],
      ['write (native)', 20],
      ['handler src/app.js:10', 10],
    ]);
    expect(s.self[0]!.share).toBeCloseTo(0.4);
    expect(s.byPackage.map((r) => [r.name, r.time])).toEqual([
      ['node:internal/crypto', 30],
      ['(native)', 20],
      ['src/app.js', 10],
    ]);
    const inclusive = new Map(s.inclusive.map((r) => [r.name, r.time]));
    expect(inclusive.get('handler src/app.js:10')).toBe(60);
    expect(inclusive.get('hash node:internal/crypto/hash:88')).toBe(30);
    expect(s.callers).toEqual([{ name: 'handler src/app.js:10', time: 30, share: 0.3 }]);
    expect(formatSummary(s, 'hash')).toContain('callers of hash');
  });

  it('adds several profiles up and caps the rows', () => {
    const s = summarize([PROFILE, PROFILE], { root: ROOT, top: 2 });
    expect(s.total).toBe(200);
    expect(s.self).toHaveLength(2);
    expect(s.self[1]).toEqual({ name: 'hash node:internal/crypto/hash:88', time: 60, share: 0.3 });
  });

  it('reads a profile node itself wrote', () => {
    execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '-e', 'let x = 0; for (let i = 0; i < 3e6; i++) x += Math.sqrt(i);']);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
    writeFileSync(join(dir, 'not-a-profile.txt'), 'x');
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((t: string) => (out.push(t), true)) as typeof process.stdout.write;
    try {
      expect(main([join(dir, file), '--top', '5'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toMatch(/^sampled \d+\.\d\d s\n\n== self time by function\n/);
  });

  it('refuses bad usage', () => {
    const err = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(main([])).toBe(2);
      expect(main(['x.cpuprofile', '--top', 'many'])).toBe(2);
    } finally {
      process.stderr.write = err;
    }
  });
});
