import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { AccountBroker, DatabaseAlreadyExistsError, type ContainerUpdate } from '../../../servers/account/broker';
import { walkListing } from '../../../servers/common/listing';
import { Timestamp } from '../../../src/common/timestamp';
import { makeDevices } from '../../helpers/tmp';

const T = (s: number) => Timestamp.fromSeconds(1_700_000_000 + s).internal;
const ZERO = new Timestamp(0).internal;

let devices: ReturnType<typeof makeDevices>;
let seq = 0;
const brokers: AccountBroker[] = [];

function newBroker(): AccountBroker {
  const b = AccountBroker.create(join(devices.dir, 'sda', 'accounts', '0', `h${++seq}`, `h${seq}.db`), 'AUTH_b', T(0));
  brokers.push(b);
  return b;
}

beforeEach(() => {
  devices = makeDevices(['sda']);
});

afterEach(() => {
  for (const b of brokers.splice(0)) b.close();
  devices.remove();
});

/** Totals recomputed from the container rows, to compare with the trigger-kept ones. */
function recomputed(b: AccountBroker) {
  const db = new Database(b.path, { readonly: true });
  try {
    const total = db
      .prepare('SELECT COALESCE(SUM(1 - deleted), 0) AS c, COALESCE(SUM(object_count), 0) AS o, COALESCE(SUM(bytes_used), 0) AS b FROM container')
      .get() as { c: number; o: number; b: number };
    const perPolicy = db
      .prepare(
        'SELECT storage_policy_index AS i, SUM(1 - deleted) AS c, SUM(object_count) AS o, SUM(bytes_used) AS b FROM container GROUP BY storage_policy_index ORDER BY i',
      )
      .all() as { i: number; c: number; o: number; b: number }[];
    return { total, perPolicy };
  } finally {
    db.close();
  }
}

describe('AccountBroker', () => {
  it('refuses to create over an existing database', () => {
    const b = newBroker();
    expect(() => AccountBroker.create(b.path, 'AUTH_b', T(1))).toThrow(DatabaseAlreadyExistsError);
    expect(b.info().put_timestamp).toBe(T(0));
  });

  it('tracks deletion as Swift: status DELETED, put/delete timestamps', () => {
    const b = newBroker();
    expect(b.isDeleted()).toBe(false);
    b.updatePutTimestamp(T(5));
    b.updatePutTimestamp(T(3)); // never moves back
    expect(b.info().put_timestamp).toBe(T(5));
    b.deleteDb(T(2)); // older than the PUT: still marks the account deleted, as Swift
    expect(b.info().status).toBe('DELETED');
    expect(b.info().delete_timestamp).toBe(T(2));
    expect(b.isDeleted()).toBe(true);
    expect(b.isStatusDeleted()).toBe(true);
    b.deleteDb(T(1)); // an older delete does not move it back
    expect(b.info().delete_timestamp).toBe(T(2));
  });

  it('uses the live-name index for every listing scan (no table scan, no sort)', () => {
    const b = newBroker();
    for (let i = 0; i < 300; i++) {
      b.putContainer({ name: `c${String(i).padStart(3, '0')}`, put_timestamp: T(1), delete_timestamp: i % 3 ? ZERO : T(2), object_count: 0, bytes_used: 0, storage_policy_index: 0 });
    }
    const shapes = [
      { reverse: false, limit: 10 },
      { reverse: true, limit: 10 },
      { gt: 'c100', reverse: false, limit: 10 },
      { gte: 'c1', lt: 'c2', reverse: false, limit: 10 },
      { gt: 'c100', lt: 'c200', reverse: true, limit: 10 },
    ];
    for (const q of shapes) {
      for (const allowReserved of [false, true]) {
        const plan = b.explainListing(q, allowReserved);
        expect(plan.length, JSON.stringify(q)).toBe(1);
        expect(plan[0]).toMatch(/^(SEARCH|SCAN) container USING COVERING INDEX ix_container_live\b/);
        expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
      }
    }
    // And the scans return only live rows, in order.
    const rows = walkListing({ limit: 5, marker: 'c010', endMarker: '', prefix: undefined, delimiter: undefined, path: undefined, reverse: false }, (q) => b.listContainers(q));
    expect(rows.map((r) => ('subdir' in r ? r.subdir : r.name))).toEqual(['c011', 'c013', 'c014', 'c016', 'c017']);
  });

  const report = fc.record({
    name: fc.constantFrom('a', 'b', 'c'),
    put: fc.integer({ min: 0, max: 8 }),
    del: fc.integer({ min: 0, max: 8 }),
    count: fc.constantFrom(0, 0, 1, 5),
    bytes: fc.integer({ min: 0, max: 1000 }),
    policy: fc.constantFrom(0, 1, 2),
  });
  const toUpdate = (r: { name: string; put: number; del: number; count: number; bytes: number; policy: number }): ContainerUpdate => ({
    name: r.name,
    put_timestamp: r.put ? T(r.put) : ZERO,
    delete_timestamp: r.del ? T(r.del) : ZERO,
    object_count: r.count,
    bytes_used: r.bytes,
    storage_policy_index: r.policy,
  });

  it('keeps totals exact and rows consistent for any sequence of reports', () => {
    fc.assert(
      fc.property(fc.array(report, { maxLength: 25 }), (reports) => {
        const b = newBroker();
        for (const r of reports) b.putContainer(toUpdate(r));
        const info = b.info();
        const { total, perPolicy } = recomputed(b);
        expect([info.container_count, info.object_count, info.bytes_used]).toEqual([total.c, total.o, total.b]);
        const stats = new Map(b.policyStats().map((p) => [p.storage_policy_index, p]));
        for (const p of perPolicy) {
          const s = stats.get(p.i)!;
          expect([s.container_count, s.object_count, s.bytes_used]).toEqual([p.c, p.o, p.b]);
        }
        for (const name of ['a', 'b', 'c']) {
          const mine = reports.filter((r) => r.name === name).map(toUpdate);
          const row = b.getContainer(name);
          if (mine.length === 0) {
            expect(row).toBeUndefined();
            continue;
          }
          // Timestamps: the newest of each, whatever the order.
          const put = mine.map((m) => m.put_timestamp).sort().at(-1)!;
          const del = mine.map((m) => m.delete_timestamp).sort().at(-1)!;
          expect([row!.put_timestamp, row!.delete_timestamp]).toEqual([put, del]);
          // Counts: from the last-applied report among those with the newest latest-timestamp.
          const latest = (m: ContainerUpdate) => (m.put_timestamp > m.delete_timestamp ? m.put_timestamp : m.delete_timestamp);
          const newest = mine.map(latest).sort().at(-1)!;
          const winner = mine.filter((m) => latest(m) === newest).at(-1)!;
          expect([row!.object_count, row!.bytes_used, row!.storage_policy_index]).toEqual([winner.object_count, winner.bytes_used, winner.storage_policy_index]);
          expect(row!.deleted).toBe(del > put && row!.object_count === 0 ? 1 : 0);
        }
        b.close();
      }),
      { numRuns: 60 },
    );
  });

  it('reaches the same row state whatever order reports with distinct timestamps arrive in', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 6 }).chain((times) =>
          fc.tuple(
            fc.constant(times),
            fc.array(fc.record({ isDelete: fc.boolean(), count: fc.constantFrom(0, 3), bytes: fc.integer({ min: 0, max: 99 }) }), {
              minLength: times.length,
              maxLength: times.length,
            }),
          ),
        ),
        fc.func(fc.integer()),
        ([times, kinds], shuffleKey) => {
          // Each report happens at its own time: a put (count/bytes) or a delete (empty).
          const updates = times.map((t, i): ContainerUpdate => {
            const k = kinds[i]!;
            return k.isDelete
              ? { name: 'x', put_timestamp: ZERO, delete_timestamp: T(t), object_count: 0, bytes_used: 0, storage_policy_index: 0 }
              : { name: 'x', put_timestamp: T(t), delete_timestamp: ZERO, object_count: k.count, bytes_used: k.bytes, storage_policy_index: 0 };
          });
          const inOrder = newBroker();
          for (const u of [...updates].sort((a, b) => (a.put_timestamp + a.delete_timestamp < b.put_timestamp + b.delete_timestamp ? -1 : 1))) inOrder.putContainer(u);
          const shuffled = newBroker();
          for (const u of [...updates].sort((a, b) => shuffleKey(a.put_timestamp + a.delete_timestamp) - shuffleKey(b.put_timestamp + b.delete_timestamp))) shuffled.putContainer(u);
          expect(shuffled.getContainer('x')).toEqual(inOrder.getContainer('x'));
          expect(shuffled.info().container_count).toBe(inOrder.info().container_count);
          inOrder.close();
          shuffled.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
