/**
 * The expiring-objects queue names, against values computed with Swift 2.30's own functions
 * (swift.common.utils.get_expirer_container with hash prefix "pre" and suffix "suf",
 * swift.obj.expirer.parse_task_obj), and the update-target spread of _backend_requests.
 */
import { describe, expect, it } from 'vitest';
import {
  buildTaskObject,
  expirerContainer,
  expiringObjectsAccount,
  InvalidTaskError,
  normalizeDeleteAt,
  parseTaskObject,
} from '../../src/common/expiring-objects';
import { numContainerUpdates, spreadUpdateTargets } from '../../src/common/update-targets';

const HASH = { prefix: 'pre', suffix: 'suf' };

describe('expirerContainer (get_expirer_container)', () => {
  it.each([
    [1700000000, 86400, 'AUTH_test', 'c', 'o', '1699919966'],
    [1700086399, 86400, 'AUTH_test', 'photos', 'cat.jpg', '1700006384'],
    [1700000000, 3600, 'a', 'c', 'o/with/slash', '1699999140'],
    [50, 86400, 'a', 'c', 'o', '0000000000'],
    [9999999999, 86400, 'AUTH_t', 'cé', '☃', '9999935924'],
    [1700000123, 1, 'a', 'c', 'o', '1700000048'],
  ])('%d / %d for %s/%s/%s is %s, as Swift computes it', (at, divisor, a, c, o, want) => {
    expect(expirerContainer(at, divisor, HASH, a, c, o)).toBe(want);
  });

  it('depends on the cluster hash secrets', () => {
    expect(expirerContainer(1700000000, 86400, { prefix: '', suffix: 'other' }, 'AUTH_test', 'c', 'o')).not.toBe('1699919966');
  });
});

describe('task names', () => {
  it('normalizes delete-at times to 10 digits, clamped like normalize_delete_at_timestamp', () => {
    expect(normalizeDeleteAt(17.9)).toBe('0000000017');
    expect(normalizeDeleteAt(-5)).toBe('0000000000');
    expect(normalizeDeleteAt(12345678901)).toBe('9999999999');
    expect(buildTaskObject(1700000000.5, 'a', 'c', 'o/x')).toBe('1700000000-a/c/o/x');
    expect(expiringObjectsAccount('.')).toBe('.expiring_objects');
    expect(expiringObjectsAccount('.', 'mine')).toBe('.mine');
  });

  it.each([
    ['1700000000-a/c/o', '1700000000.00000', 'a', 'c', 'o'],
    ['1700000000-a/c/o/x/y', '1700000000.00000', 'a', 'c', 'o/x/y'],
    ['1700000000.12345-a/c/o', '1700000000.12345', 'a', 'c', 'o'],
    ['1e9-a/c/o', '1000000000.00000', 'a', 'c', 'o'],
    [' 17-a/c/o', '0000000017.00000', 'a', 'c', 'o'],
    ['+17-a/c/o', '0000000017.00000', 'a', 'c', 'o'],
    ['1_000-a/c/o', '0000000001.00000', 'a', 'c', 'o'],
    ['1700000000-a/c-d/o-e', '1700000000.00000', 'a', 'c-d', 'o-e'],
  ])('parses %j as Swift does', (name, at, a, c, o) => {
    const t = parseTaskObject(name);
    expect([t.deleteAt.normal, t.account, t.container, t.object]).toEqual([at, a, c, o]);
  });

  it('keeps the offset of an internal timestamp', () => {
    expect(parseTaskObject('1700000000_00000000000000ab-a/c/o').deleteAt.internal).toBe('1700000000.00000_00000000000000ab');
  });

  it.each(['nodash', 'x-a/c/o', '-1-a/c/o', '1700000000-a/c', '1700000000-a//o', '1700000000-a/c/', '17-/c/o', 'inf-a/c/o', 'nan-a/c/o', ''])(
    'rejects %j (Swift raises ValueError)',
    (name) => {
      expect(() => parseTaskObject(name)).toThrow(InvalidTaskError);
    },
  );
});

describe('spreadUpdateTargets (_backend_requests)', () => {
  const node = (name: string, port = 6201) => ({ ip: '10.0.0.1', port, device: name });

  it('needs as many updates as num_container_updates says', () => {
    // Values from swift.proxy.controllers.obj.num_container_updates.
    expect([[3, 3], [1, 3], [3, 2], [3, 1], [5, 3], [2, 4]].map(([c, o]) => numContainerUpdates(c!, o!))).toEqual([3, 2, 3, 3, 5, 3]);
  });

  it('one container and one queue replica per object replica when the rings match', () => {
    const h: Record<string, string>[] = [{}, {}, {}];
    spreadUpdateTargets(h, 7, [node('c0'), node('c1'), node('c2')], { container: '1699919966', partition: 9, nodes: [node('q0', 6203), node('q1', 6203), node('q2', 6203)] });
    expect(h.map((x) => [x['x-container-device'], x['x-delete-at-device']])).toEqual([
      ['c0', 'q2'],
      ['c1', 'q1'],
      ['c2', 'q0'],
    ]);
    expect(h[0]).toMatchObject({
      'x-container-partition': '7',
      'x-container-host': '10.0.0.1:6201',
      'x-delete-at-container': '1699919966',
      'x-delete-at-partition': '9',
      'x-delete-at-host': '10.0.0.1:6203',
    });
  });

  it('wraps around when there are more container replicas than object replicas', () => {
    const h: Record<string, string>[] = [{}, {}];
    spreadUpdateTargets(h, 1, [node('c0'), node('c1'), node('c2')], { container: 'q', partition: 2, nodes: [node('d0'), node('d1'), node('d2')] });
    expect(h[0]!['x-container-device']).toBe('c0,c2');
    expect(h[1]!['x-container-device']).toBe('c1');
    expect(h[0]!['x-delete-at-device']).toBe('d1');
    expect(h[1]!['x-delete-at-device']).toBe('d0,d2');
  });

  it('leaves the queue headers out without an X-Delete-At, and the single container to two object replicas of three', () => {
    const h: Record<string, string>[] = [{}, {}, {}];
    spreadUpdateTargets(h, 1, [node('c0')]);
    expect(h.map((x) => x['x-container-device'])).toEqual(['c0', 'c0', undefined]);
    expect(h.some((x) => 'x-delete-at-host' in x)).toBe(false);
  });
});
