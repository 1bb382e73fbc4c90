/**
 * The memcache ring against Swift's own MemcacheRing (python3-swift under /usr/bin/python3,
 * driven by memcache_ring_oracle.py): for generated server lists, `tries` and keys, the hashed
 * key and the servers tried, in order, must be the same. A key on another server than Swift's
 * would be invisible to the Swift proxies sharing the pool.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcacheRing, memcacheKey, NODE_WEIGHT } from '../../src/common/memcache-ring';
import { PythonOracle } from '../helpers/python-oracle';

const PY = '/usr/bin/python3';
const ORACLE = join(import.meta.dirname, 'memcache_ring_oracle.py');
const probe = existsSync(PY) ? spawnSync(PY, ['-c', 'import swift.common.memcached'], { encoding: 'utf8' }) : undefined;
const haveSwift = probe?.status === 0;
if (!haveSwift && process.env.CI) throw new Error(`Swift's MemcacheRing is required in CI: ${probe?.stderr?.trim() || `${PY} missing`}`);
const skipReason = haveSwift ? '' : `(skipped: ${PY} cannot import swift.common.memcached: ${probe?.stderr?.trim() || 'python3 missing'})`;

const SEED = Number(process.env.MEMCACHE_RING_SEED ?? 20261203);
const RUNS = Number(process.env.MEMCACHE_RING_RUNS ?? 100);
const KEYS_PER_RUN = 50;

interface Answer {
  orders: string[][];
  hashed: string[];
}

const host = fc.oneof(
  fc.ipV4(),
  fc.constantFrom('localhost', 'memcache-1.example', '[::1]', '[fd00::12]', 'cache.local'),
);
const server = fc.tuple(host, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })).map(([h, p]) => (p === undefined ? h : `${h}:${p}`));
// Swift's own key shapes, and arbitrary text (non-ASCII names are hashed as their UTF-8 bytes).
const key = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }).map((a) => `account/AUTH_${a}`),
  fc.tuple(fc.string({ minLength: 1 }), fc.string({ minLength: 1 })).map(([a, c]) => `container/${a}/${c}`),
  fc.uuid().map((u) => `AUTH_/token/AUTH_tk${u.replace(/-/g, '')}`),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map((u) => `AUTH_/user/${u}`),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
);
const runArb = fc.record({
  servers: fc.uniqueArray(server, { minLength: 1, maxLength: 7 }),
  tries: fc.integer({ min: 1, max: 8 }),
  keys: fc.array(key, { minLength: KEYS_PER_RUN, maxLength: KEYS_PER_RUN }),
});

describe.skipIf(!haveSwift)("the memcache ring agrees with Swift's MemcacheRing", () => {
  let oracle: PythonOracle;
  beforeAll(() => {
    oracle = new PythonOracle(PY, ORACLE);
  });
  afterAll(() => oracle?.close());

  it(`on ${RUNS * KEYS_PER_RUN} generated keys over ${RUNS} server lists (seed ${SEED})`, async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(runArb, async (run) => {
        const answer = await oracle.ask<Answer>(run);
        const ring = new MemcacheRing(run.servers, run.tries);
        const hashed = run.keys.map(memcacheKey);
        expect(hashed).toEqual(answer.hashed);
        expect(hashed.map((h) => ring.serversFor(h))).toEqual(answer.orders);
        compared += run.keys.length;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(compared).toBe(RUNS * KEYS_PER_RUN);
  }, 60_000);

  it('agrees on one server list with many servers, key by key', async () => {
    const servers = Array.from({ length: 24 }, (_, i) => `10.1.${i >> 3}.${i}:${11211 + (i % 3)}`);
    const keys = Array.from({ length: 2000 }, (_, i) => `container/AUTH_acct${i % 37}/c${i}`);
    const answer = await oracle.ask<Answer>({ servers, tries: 3, keys });
    const ring = new MemcacheRing(servers, 3);
    const orders = keys.map((k) => ring.serversFor(memcacheKey(k)));
    expect(orders).toEqual(answer.orders);
    // Every server owns some of the 2000 keys: the ring spreads them, it does not pile them up.
    expect(new Set(orders.map((o) => o[0])).size).toBe(servers.length);
  });
});

describe.skipIf(haveSwift)("the memcache ring agrees with Swift's MemcacheRing", () => {
  it.skip(`needs Debian's python3-swift ${skipReason}`, () => {});
});

describe('memcache ring basics', () => {
  it('hashes keys as the hex md5 of their UTF-8 bytes', () => {
    expect(memcacheKey('account/AUTH_test')).toBe('05fad1c218a819c6507731ef4698a285');
    expect(memcacheKey('é')).toBe('66ddcd97cfdeabb2f6fb8a999b4bc76f');
  });

  it('tries each distinct server at most once, never more than configured', () => {
    const ring = new MemcacheRing(['a:1', 'b:2', 'c:3', 'a:1'], 5);
    expect(ring.servers).toEqual(['a:1', 'b:2', 'c:3']);
    expect(ring.tries).toBe(3);
    const order = ring.serversFor(memcacheKey('x'));
    expect([...order].sort()).toEqual(['a:1', 'b:2', 'c:3']);
    expect(new MemcacheRing(['a:1', 'b:2'], 1).serversFor(memcacheKey('x'))).toHaveLength(1);
    expect(NODE_WEIGHT).toBe(50);
  });

  it('refuses an empty server list', () => {
    expect(() => new MemcacheRing([])).toThrow(/at least one server/);
  });
});
