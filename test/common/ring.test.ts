import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  buildRing,
  deserializeRing,
  partsPerDevice,
  Ring,
  ringFileName,
  RingFormatError,
  serializeRing,
  writeRingFile,
  type RingData,
} from '../../src/common/ring';

const PY = '/usr/bin/python3';
const RING_BUILDER = '/usr/bin/swift-ring-builder';
const swiftImport = existsSync(PY) ? spawnSync(PY, ['-c', 'import swift.common.ring'], { encoding: 'utf8' }) : undefined;
const havePySwift = swiftImport?.status === 0;
const skipReason = havePySwift ? '' : `(skipped: ${PY} cannot import swift: ${swiftImport?.stderr?.trim() || 'python3 missing'})`;
const haveBuilder = havePySwift && existsSync(RING_BUILDER);

const HASH = { prefix: 'pre\u00e9fix', suffix: 'suffix-\u00ff' };

/** Names that exercise UTF-8, reserved-looking characters and empty components. */
const PATHS: [string, string?, string?][] = [
  ['AUTH_test'],
  ['AUTH_test', 'c'],
  ['AUTH_test', 'c', 'o'],
  ['AUTH_test', 'cont\u00e9ner', 'obj/with/slashes'],
  ['AUTH_\u2603', '\ud83d\ude00', 'x y%20z?&'],
  ['.expiring_objects', '1700000000', '1700000000-AUTH_a/c/o'],
  ['a', '', ''],
  ['AUTH_test', 'c', ''],
];

/**
 * Asks Debian's Swift (2.30) for the ring's view: for each path its part, primaries and the full
 * handoff sequence, plus the ring metadata RingData.load sees and serialize_v1's bytes.
 */
function swiftView(ringPath: string, paths: [string, string?, string?][]) {
  const script = `
import io, json, sys
from swift.common import utils
from swift.common.ring import Ring, RingData
req = json.load(sys.stdin)
utils.HASH_PATH_PREFIX = req['prefix'].encode('latin1')
utils.HASH_PATH_SUFFIX = req['suffix'].encode('latin1')
ring = Ring(req['ring'])
data = RingData.load(req['ring'])
buf = io.BytesIO()
data.serialize_v1(buf)
out = {'devs': data.devs, 'part_shift': data._part_shift, 'replica_count': data.replica_count,
       'version': data.version, 'next_part_power': data.next_part_power,
       'row_lengths': [len(r) for r in data._replica2part2dev_id],
       'serialized': buf.getvalue().hex(), 'lookups': []}
for a, c, o in req['paths']:
    part, nodes = ring.get_nodes(a, c, o)
    more = list(ring.get_more_nodes(part))
    out['lookups'].append({'part': part,
        'nodes': [[n['id'], n['index']] for n in nodes],
        'handoffs': [[n['id'], n['handoff_index']] for n in more]})
print(json.dumps(out))
`;
  const input = JSON.stringify({ ...HASH, ring: ringPath, paths: paths.map(([a, c, o]) => [a, c ?? null, o ?? null]) });
  return JSON.parse(execFileSync(PY, ['-c', script], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })) as {
    devs: (Record<string, unknown> | null)[];
    part_shift: number;
    replica_count: number;
    version: number | null;
    next_part_power: number | null;
    row_lengths: number[];
    serialized: string;
    lookups: { part: number; nodes: [number, number][]; handoffs: [number, number][] }[];
  };
}

function sluiceView(ring: Ring, paths: [string, string?, string?][]) {
  return paths.map(([a, c, o]) => {
    const { part, nodes } = ring.getNodes(a, c, o);
    return {
      part,
      nodes: nodes.map((n) => [n.id, n.index]),
      handoffs: [...ring.getMoreNodes(part)].map((n) => [n.id, n.handoff_index]),
    };
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-ring-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const clusterDevices = () => [
  { region: 1, zone: 1, ip: '10.0.0.1', port: 6202, device: 'sda', weight: 100 },
  { region: 1, zone: 1, ip: '10.0.0.1', port: 6202, device: 'sdb', weight: 100 },
  { region: 1, zone: 2, ip: '10.0.0.2', port: 6202, device: 'sda', weight: 100 },
  { region: 1, zone: 3, ip: '10.0.0.3', port: 6202, device: 'sda', weight: 200, meta: 'caf\u00e9 \u2603' },
  { region: 2, zone: 1, ip: '10.1.0.1', port: 6202, device: 'sda', weight: 100, replication_ip: '10.9.0.1', replication_port: 6302 },
  { region: 2, zone: 2, ip: '10.1.0.2', port: 6202, device: 'sda', weight: 0 },
];

describe('ring v1 format', () => {
  it('round-trips devices, assignments, part shift and version', () => {
    const data = buildRing({ partPower: 6, replicas: 3, devices: clusterDevices() });
    data.devs.push(null);
    const back = deserializeRing(serializeRing(data));
    expect(back.partShift).toBe(26);
    expect(back.version).toBe(1);
    expect(back.nextPartPower).toBeNull();
    expect(back.devs).toEqual(data.devs);
    expect(back.replica2part2dev.map((r) => [...r])).toEqual(data.replica2part2dev.map((r) => [...r]));
  });

  it('keeps a short last row for fractional replica counts', () => {
    const data = buildRing({ partPower: 4, replicas: 2.5, devices: clusterDevices() });
    expect(data.replica2part2dev.map((r) => r.length)).toEqual([16, 16, 8]);
    const ring = new Ring(null, deserializeRing(serializeRing(data)), HASH);
    expect(ring.replicaCount).toBe(2.5);
    expect(ring.partCount).toBe(16);
    expect(ring.getPartNodes(3)).toHaveLength(3);
    expect(ring.getPartNodes(12)).toHaveLength(2);
  });

  it('reads big-endian rows and defaults region and replication address', () => {
    const json = Buffer.from(JSON.stringify({
      devs: [{ id: 0, zone: 1, ip: '1.2.3.4', port: 6000, device: 'd0', weight: 1, meta: '' }, null, { id: 2, zone: 2, ip: '1.2.3.5', port: 6001, device: 'd2', weight: 1, meta: '' }],
      part_shift: 31,
      replica_count: 2,
      byteorder: 'big',
    }));
    const head = Buffer.alloc(10);
    head.write('R1NG', 0, 'latin1');
    head.writeUInt16BE(1, 4);
    head.writeUInt32BE(json.length, 6);
    const rows = Buffer.from([0, 0, 0, 2, 0, 2, 0, 0]);
    const data = deserializeRing(gzipSync(Buffer.concat([head, json, rows])));
    expect(data.replica2part2dev.map((r) => [...r])).toEqual([[0, 2], [2, 0]]);
    expect(data.devs[0]).toMatchObject({ region: 1, replication_ip: '1.2.3.4', replication_port: 6000 });
    expect(data.devs[1]).toBeNull();
    expect(data.version).toBeNull();
  });

  it('rejects data that is not a v1 ring', () => {
    expect(() => deserializeRing(Buffer.from('plain'))).toThrow(RingFormatError);
    expect(() => deserializeRing(gzipSync(Buffer.from('\x80\x02}q\x00.', 'latin1')))).toThrow(/magic/);
    const v2 = Buffer.alloc(10);
    v2.write('R1NG', 0, 'latin1');
    v2.writeUInt16BE(2, 4);
    expect(() => deserializeRing(gzipSync(v2))).toThrow(/version 2/);
    const bad = Buffer.alloc(12);
    bad.write('R1NG', 0, 'latin1');
    bad.writeUInt16BE(1, 4);
    bad.writeUInt32BE(2, 6);
    bad.write('{x', 10, 'latin1');
    expect(() => deserializeRing(gzipSync(bad))).toThrow(RingFormatError);
    bad.writeUInt32BE(999, 6);
    expect(() => deserializeRing(gzipSync(bad))).toThrow(/truncated/);
  });

  it('names ring files as Swift does', () => {
    expect(ringFileName('account')).toBe('account.ring.gz');
    expect(ringFileName('container')).toBe('container.ring.gz');
    expect(ringFileName('object')).toBe('object.ring.gz');
    expect(ringFileName('object', 0)).toBe('object.ring.gz');
    expect(ringFileName('object', 3)).toBe('object-3.ring.gz');
  });
});

describe('ring lookups', () => {
  it('de-duplicates primaries and numbers them by position', () => {
    const data: RingData = {
      devs: [0, 1, 2].map((id) => ({ id, region: 1, zone: id, ip: `10.0.0.${id}`, port: 6000, replication_ip: `10.0.0.${id}`, replication_port: 6000, device: 'sda', weight: 1, meta: '' })),
      replica2part2dev: [Uint16Array.from([0, 1]), Uint16Array.from([0, 2]), Uint16Array.from([2, 1])],
      partShift: 31,
    };
    const ring = new Ring(null, data, HASH);
    expect(ring.getPartNodes(0).map((n) => [n.id, n.index])).toEqual([[0, 0], [2, 1]]);
    expect(ring.getPartNodes(1).map((n) => [n.id, n.index])).toEqual([[1, 0], [2, 1]]);
    expect([...ring.getMoreNodes(0)].map((n) => n.id)).toEqual([1]);
  });

  it('treats empty container and object names as absent, like hash_path', () => {
    const ring = new Ring(null, buildRing({ partPower: 16, replicas: 1, devices: clusterDevices() }), HASH);
    expect(ring.getPart('a', '', '')).toBe(ring.getPart('a'));
    expect(ring.getPart('a', 'c', '')).toBe(ring.getPart('a', 'c'));
    expect(() => ring.getPart('a', '', 'o')).toThrow(/container is required/);
  });

  it('balances by weight, skips zero-weight devices and spreads replicas over tiers', () => {
    const data = buildRing({ partPower: 8, replicas: 3, devices: clusterDevices() });
    const counts = partsPerDevice(data);
    expect(counts.get(5)).toBeUndefined();
    // weights 100,100,100,200,100 of 768 slots -> 128,128,128,256,128
    expect([0, 1, 2, 3, 4].map((id) => counts.get(id))).toEqual([128, 128, 128, 256, 128]);
    const ring = new Ring(null, data, HASH);
    for (let p = 0; p < 256; p++) {
      const nodes = ring.getPartNodes(p);
      expect(nodes).toHaveLength(3);
      expect(new Set(nodes.map((n) => `${n.region}/${n.zone}`)).size).toBe(3);
    }
    // Weight cannot put two replicas of a part on one device while others have room (Swift's
    // builder caps a device at one replica per part): 3 devices, 3 replicas, weights 1:2:1.
    const capped = buildRing({ partPower: 6, replicas: 3, devices: [1, 2, 1].map((weight, i) => ({ zone: i + 1, ip: '127.0.0.1', port: 6200, device: `sd${i}`, weight })) });
    expect([...partsPerDevice(capped).values()]).toEqual([64, 64, 64]);
    // One device and three replicas is allowed (as Swift's builder): it gets every replica.
    const single = new Ring(null, buildRing({ partPower: 2, replicas: 3, devices: [{ ip: '127.0.0.1', port: 1, device: 'sda' }] }), HASH);
    expect(single.getPartNodes(1).map((n) => n.id)).toEqual([0]);
    expect(() => buildRing({ partPower: 2, replicas: 1, devices: [{ ip: '127.0.0.1', port: 1, device: 'sda', weight: 0 }] })).toThrow(/weight/);
    expect(() => buildRing({ partPower: 25, replicas: 1, devices: clusterDevices() })).toThrow(/part power/);
    expect(() => buildRing({ partPower: 2, replicas: 0.5, devices: clusterDevices() })).toThrow(/replicas/);
  });

  it('puts everything in partition 0 of a part power 0 ring', () => {
    const ring = new Ring(null, buildRing({ partPower: 0, replicas: 2, devices: clusterDevices() }), HASH);
    expect(ring.partCount).toBe(1);
    for (const [a, c, o] of PATHS) expect(ring.getPart(a, c, o)).toBe(0);
    expect(ring.getPartNodes(0)).toHaveLength(2);
    expect([...ring.getMoreNodes(0)]).toHaveLength(0);
  });

  it('reloads the ring file when its mtime changes', () => {
    const path = join(dir, 'reload.ring.gz');
    writeRingFile(path, buildRing({ partPower: 2, replicas: 1, devices: [{ ip: '127.0.0.1', port: 1000, device: 'sda' }] }));
    const ring = Ring.load(path, HASH, 0);
    expect(ring.devices[0]?.port).toBe(1000);
    writeRingFile(path, buildRing({ partPower: 2, replicas: 1, devices: [{ ip: '127.0.0.1', port: 2000, device: 'sda' }] }));
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    expect(ring.devices[0]?.port).toBe(2000);
    // A broken rewrite keeps the last good ring in service.
    writeFileSync(path, 'garbage');
    utimesSync(path, new Date(), new Date(Date.now() + 10000));
    expect(ring.getPartNodes(0)[0]?.port).toBe(2000);
  });

  it('answers repeated lookups from its caches with the same results, and drops them on reload', () => {
    const path = join(dir, 'cached.ring.gz');
    const devices = (port: number) => [0, 1, 2].map((i) => ({ zone: i + 1, ip: '127.0.0.1', port: port + i, device: `sd${i}` }));
    writeRingFile(path, buildRing({ partPower: 8, replicas: 3, devices: devices(1000) }));
    const ring = Ring.load(path, HASH, 0);
    const fresh = new Ring(null, deserializeRing(readFileSync(path)), HASH);
    for (const [a, c, o] of PATHS) {
      const part = ring.getPart(a, c, o);
      expect(ring.getPart(a, c, o)).toBe(part);
      expect(part).toBe(fresh.getPart(a, c, o));
      expect(ring.getPartNodes(part)).toEqual(fresh.getPartNodes(part));
    }
    // Callers get their own array, and the shared node objects cannot be changed through it.
    const nodes = ring.getPartNodes(5);
    nodes.reverse();
    expect(ring.getPartNodes(5).map((n) => n.index)).toEqual([0, 1, 2]);
    expect(() => {
      (nodes[0] as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(ring.getPartNodes(5)[0]!.port).not.toBe(1);
    // An out-of-range partition has no primaries, and is not remembered.
    expect(ring.getPartNodes(1 << 20)).toEqual([]);
    // A new ring file replaces cached nodes (same partitions, new ports).
    writeRingFile(path, buildRing({ partPower: 8, replicas: 3, devices: devices(2000) }));
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    expect(ring.getPartNodes(5).map((n) => n.port).sort()).toEqual([2000, 2001, 2002]);
    // And a new part power changes every partition: the path cache must not answer from the old ring.
    writeRingFile(path, buildRing({ partPower: 4, replicas: 3, devices: devices(2000) }));
    utimesSync(path, new Date(), new Date(Date.now() + 10000));
    const smaller = new Ring(null, deserializeRing(readFileSync(path)), HASH);
    for (const [a, c, o] of PATHS) expect(ring.getPart(a, c, o)).toBe(smaller.getPart(a, c, o));
    expect(ring.partCount).toBe(16);
  });
});

describe.skipIf(!havePySwift)(`against Debian's python3-swift ${skipReason}`, () => {
  it('computes the same partitions as Swift for known inputs', () => {
    const path = join(dir, 'parts.ring.gz');
    writeRingFile(path, buildRing({ partPower: 18, replicas: 1, devices: [{ ip: '127.0.0.1', port: 1, device: 'sda' }] }));
    const swift = swiftView(path, PATHS);
    const ring = Ring.load(path, HASH);
    expect(PATHS.map(([a, c, o]) => ring.getPart(a, c, o))).toEqual(swift.lookups.map((l) => l.part));
  });

  for (const [partPower, replicas] of [[6, 3], [6, 2.5], [0, 2]] as const) {
    it(`writes part power ${partPower}, ${replicas}-replica rings that Swift loads with the same parts, primaries and handoffs`, () => {
      const path = join(dir, `sluice-${partPower}-${replicas}.ring.gz`);
      const data = buildRing({ partPower, replicas, devices: clusterDevices() });
      writeRingFile(path, data);
      const swift = swiftView(path, PATHS);
      expect(swift.part_shift).toBe(32 - partPower);
      expect(swift.replica_count).toBe(replicas);
      expect(swift.version).toBe(1);
      expect(swift.next_part_power).toBeNull();
      expect(swift.row_lengths).toEqual(data.replica2part2dev.map((r) => r.length));
      expect(swift.devs).toEqual(data.devs);
      // Swift re-serialises the loaded ring to exactly the bytes we wrote.
      expect(swift.serialized).toBe(gunzipSync(readFileSync(path)).toString('hex'));
      expect(sluiceView(Ring.load(path, HASH), PATHS)).toEqual(swift.lookups);
    });
  }

  describe.skipIf(!haveBuilder)('rings built by swift-ring-builder', () => {
    const build = (name: string, partPower: number, replicas: number, devs: string[], remove: number[] = []) => {
      const builder = join(dir, `${name}.builder`);
      // Runs swift-ring-builder's own main() for each command in one Python process (a Python
      // start-up per command would make this file slow); exit codes as the CLI's.
      const commands = [
        ['create', String(partPower), String(replicas), '1'],
        ['add', ...devs.flatMap((d) => d.split(' '))],
        ...remove.map((id) => ['remove', `d${id}`]),
        ['rebalance', '--seed', '7'],
      ];
      const script = `
import json, sys, io, contextlib
from swift.cli.ringbuilder import main
codes = []
for cmd in json.load(sys.stdin):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main(['swift-ring-builder', ${JSON.stringify(builder)}] + cmd)
            codes.append(0)
        except SystemExit as e:
            codes.append(e.code or 0)
print(json.dumps(codes))
`;
      const codes = JSON.parse(execFileSync(PY, ['-c', script], { input: JSON.stringify(commands), encoding: 'utf8', cwd: dir })) as number[];
      // rebalance exits 1 for balance warnings; the ring is still written.
      expect(codes.slice(0, -1).every((c) => c === 0)).toBe(true);
      expect([0, 1]).toContain(codes.at(-1));
      const ringPath = join(dir, `${name}.ring.gz`);
      expect(existsSync(ringPath)).toBe(true);
      return ringPath;
    };

    it('loads a multi-region ring and gives the same nodes and handoffs as Swift', () => {
      const path = build('multi', 8, 3, [
        'r1z1-10.0.0.1:6202/sda 100',
        'r1z1-10.0.0.1:6202/sdb 100',
        'r1z2-10.0.0.2:6202/sda 100',
        'r1z2-10.0.0.2:6202/sdb 50',
        'r1z3-10.0.0.3:6202R10.9.0.3:6302/sda_meta 100',
        'r2z1-10.1.0.1:6202/sda 100',
        'r2z2-10.1.0.2:6202/sda 100',
        'r2z2-10.1.0.3:6202/sdc 100',
      ]);
      const swift = swiftView(path, PATHS);
      const ring = Ring.load(path, HASH);
      expect(ring.partPower).toBe(8);
      expect(ring.replicaCount).toBe(3);
      expect(ring.devices).toEqual(swift.devs);
      expect(ring.devices[4]).toMatchObject({ replication_ip: '10.9.0.3', replication_port: 6302, device: 'sda', meta: 'meta' });
      expect(sluiceView(ring, PATHS)).toEqual(swift.lookups);
      // Many more paths, so handoff walks cover the whole partition space.
      const many: [string, string?, string?][] = Array.from({ length: 200 }, (_, i) => ['AUTH_x', `c${i % 7}`, `o${i}`]);
      expect(sluiceView(ring, many)).toEqual(swiftView(path, many).lookups);
    });

    it('loads a fractional-replica ring with a removed device', () => {
      const path = build('frac', 5, 2.25, [
        'r1z1-127.0.0.1:6010/sdb1 1',
        'r1z2-127.0.0.1:6020/sdb2 1',
        'r1z3-127.0.0.1:6030/sdb3 1',
        'r1z4-127.0.0.1:6040/sdb4 1',
      ], [1]);
      const swift = swiftView(path, PATHS);
      const ring = Ring.load(path, HASH);
      expect(ring.replicaCount).toBe(2.25);
      expect(ring.devices[1]).toBeNull();
      expect(ring.devices).toEqual(swift.devs);
      expect(sluiceView(ring, PATHS)).toEqual(swift.lookups);
    });
  });
});
