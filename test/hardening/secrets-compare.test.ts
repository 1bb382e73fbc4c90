/**
 * Claims about comparing secrets, asserted on the code paths themselves (never by timing):
 *  - TempAuth compares a key given in /auth with the configured one with crypto.timingSafeEqual
 *    over the presented key's bytes only (against the configured key repeated to that length),
 *    so the time depends on neither the configured key's bytes nor its length;
 *  - the user store remembers a successful key check for 5 minutes (VERIFY_CACHE_TTL_MS), so
 *    scrypt runs once per user and key in that window, and again after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => ({ timingSafeEqual: [] as [number, number][], scrypt: 0 }));

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.timingSafeEqual.push([a.byteLength, b.byteLength]);
      return real.timingSafeEqual(a, b);
    },
    scrypt: (...args: Parameters<typeof real.scrypt>) => {
      calls.scrypt += 1;
      return (real.scrypt as (...a: unknown[]) => void)(...args);
    },
  };
});

const { startCluster } = await import('../../src/testing/index');
const { send } = await import('../conformance/replayer');
const { UserStore, VERIFY_CACHE_TTL_MS } = await import('../../src/middleware/tempauth/user-store');

const tmp = mkdtempSync(join(tmpdir(), 'sluice-secrets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeEach(() => {
  calls.timingSafeEqual.length = 0;
  calls.scrypt = 0;
});

describe('TempAuth key comparison', () => {
  it('compares with timingSafeEqual over the presented key\'s length, whatever the configured key\'s', async () => {
    const cluster = await startCluster();
    try {
      const keys = ['testing', 'x', 'testing-but-much-longer-than-the-real-key', '', 'testinG', 'testingtesting', 'té'];
      for (const key of keys) {
        const before = calls.timingSafeEqual.length;
        const r = await send(cluster.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': key });
        expect(r.status, key).toBe(key === 'testing' ? 200 : 401);
        // An empty key is refused before any comparison (no key given); every other one is compared.
        const compared = calls.timingSafeEqual.slice(before);
        if (key === '') expect(compared, key).toEqual([]);
        else expect(compared, key).toEqual([[Buffer.byteLength(key), Buffer.byteLength(key)]]);
      }
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});

describe('the user store key-check cache', () => {
  it('runs scrypt once per user and key within five minutes, and again after', async () => {
    const path = join(tmp, 'users.db');
    const writer = new UserStore(path);
    await writer.add('acme', 'ann', 'ann-key-123456');
    writer.close();
    calls.scrypt = 0;
    let now = 1_000_000;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      const store = new UserStore(path, { readonly: true });
      expect((await store.verify('acme', 'ann', 'ann-key-123456')).ok).toBe(true);
      expect(calls.scrypt).toBe(1);
      now += VERIFY_CACHE_TTL_MS - 1000;
      await new Promise((r) => setTimeout(r, 5)); // lru-cache keeps "now" for a millisecond
      expect((await store.verify('acme', 'ann', 'ann-key-123456')).ok).toBe(true);
      expect(calls.scrypt).toBe(1);
      // A wrong key is never cached as right: scrypt runs for it.
      expect((await store.verify('acme', 'ann', 'wrong-key-123456')).ok).toBe(false);
      expect(calls.scrypt).toBe(2);
      now += 2000;
      await new Promise((r) => setTimeout(r, 5));
      expect((await store.verify('acme', 'ann', 'ann-key-123456')).ok).toBe(true);
      expect(calls.scrypt).toBe(3);
      expect(VERIFY_CACHE_TTL_MS).toBe(5 * 60_000);
      store.close();
    } finally {
      clock.mockRestore();
    }
  });
});
