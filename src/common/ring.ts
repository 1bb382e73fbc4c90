/**
 * Swift rings, v1 on-disk format (swift.common.ring.ring.RingData, format version 1):
 *
 *   gzip( b'R1NG' | !H version=1 | !I json_len | json header | replica_count x array('H') )
 *
 * The JSON header holds `devs`, `part_shift`, `replica_count`, `byteorder` and optionally
 * `version` / `next_part_power`. Each replica row has 2**(32-part_shift) unsigned 16-bit device
 * ids in `byteorder`; the last row may be shorter (fractional replica counts).
 *
 * Lookups (getPart, getPartNodes, getMoreNodes) follow swift.common.ring.Ring in 2.30 exactly,
 * so a Swift proxy and sluice pick the same primaries and the same handoffs in the same order.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { LRUCache } from 'lru-cache';
import { hashPathOf, joinedPath, partitionOf, type HashPathConfig } from './hash-path';
import { pyJsonDumps } from '../compat/json';

export interface RingDevice {
  id: number;
  region: number;
  zone: number;
  ip: string;
  port: number;
  replication_ip: string;
  replication_port: number;
  device: string;
  weight: number;
  meta: string;
  [extra: string]: unknown;
}

/** A primary node for a partition: the device plus its position in the primary list. */
export type RingNode = RingDevice & { index: number };

/** A handoff node: the device plus its position in the handoff sequence (Swift's `handoff_index`). */
export type HandoffNode = RingDevice & { handoff_index: number };

export interface RingData {
  devs: (RingDevice | null)[];
  replica2part2dev: Uint16Array[];
  partShift: number;
  version?: number | null;
  nextPartPower?: number | null;
}

export class RingFormatError extends Error {}

const MAGIC = Buffer.from('R1NG', 'latin1');

/** `account.ring.gz`, `container.ring.gz`, `object.ring.gz` (policy 0) or `object-N.ring.gz`. */
export function ringFileName(kind: 'account' | 'container' | 'object', policyIndex = 0): string {
  return kind === 'object' && policyIndex !== 0 ? `object-${policyIndex}.ring.gz` : `${kind}.ring.gz`;
}

export function deserializeRing(gz: Buffer): RingData {
  let raw: Buffer;
  try {
    raw = gunzipSync(gz);
  } catch (err) {
    throw new RingFormatError(`ring is not gzip data: ${(err as Error).message}`);
  }
  if (raw.length < 6 || !raw.subarray(0, 4).equals(MAGIC)) {
    throw new RingFormatError('bad ring magic (pickled rings are not supported; rewrite the ring with a v1 writer)');
  }
  const version = raw.readUInt16BE(4);
  if (version !== 1) throw new RingFormatError(`unsupported ring format version ${version}`);
  if (raw.length < 10) throw new RingFormatError('truncated ring header');
  const jsonLen = raw.readUInt32BE(6);
  if (10 + jsonLen > raw.length) throw new RingFormatError('truncated ring header');
  let header: {
    devs: (Partial<RingDevice> | null)[];
    part_shift: number;
    replica_count: number;
    byteorder?: 'little' | 'big';
    version?: number | null;
    next_part_power?: number | null;
  };
  try {
    header = JSON.parse(raw.subarray(10, 10 + jsonLen).toString('utf8'));
  } catch (err) {
    throw new RingFormatError(`bad ring JSON header: ${(err as Error).message}`);
  }
  if (
    !header ||
    !Array.isArray(header.devs) ||
    !Number.isInteger(header.part_shift) ||
    header.part_shift < 0 ||
    header.part_shift > 32 ||
    !Number.isInteger(header.replica_count) ||
    header.replica_count < 0
  ) {
    throw new RingFormatError('ring JSON header lacks devs, part_shift or replica_count');
  }
  // Swift defaults a missing byteorder to the host's; every host it runs on is little-endian.
  const big = header.byteorder === 'big';
  const partCount = 2 ** (32 - header.part_shift);
  let pos = 10 + jsonLen;
  const rows: Uint16Array[] = [];
  for (let r = 0; r < header.replica_count; r++) {
    // As array('H').frombytes(read(2 * parts)): a short read gives a short (last) row.
    const bytes = Math.min(2 * partCount, raw.length - pos) & ~1;
    const row = new Uint16Array(bytes >> 1);
    for (let i = 0; i < row.length; i++) row[i] = big ? raw.readUInt16BE(pos + 2 * i) : raw.readUInt16LE(pos + 2 * i);
    pos += bytes;
    rows.push(row);
  }
  const devs = header.devs.map((d) => (d ? normaliseDevice(d) : null));
  return { devs, replica2part2dev: rows, partShift: header.part_shift, version: header.version ?? null, nextPartPower: header.next_part_power ?? null };
}

/** Ring._reload's defaults: region 1, replication address from the service address. */
function normaliseDevice(d: Partial<RingDevice>): RingDevice {
  const dev = { ...d } as RingDevice;
  dev.region ??= 1;
  if (d.ip !== undefined) dev.replication_ip ??= d.ip;
  if (d.port !== undefined) dev.replication_port ??= d.port;
  return dev;
}

export function serializeRing(data: RingData): Buffer {
  // As RingData.serialize_v1: version and next_part_power only when set.
  const header: Record<string, unknown> = {
    devs: data.devs,
    part_shift: data.partShift,
    replica_count: data.replica2part2dev.length,
    byteorder: 'little',
  };
  if (data.version !== undefined && data.version !== null) header.version = data.version;
  if (data.nextPartPower !== undefined && data.nextPartPower !== null) header.next_part_power = data.nextPartPower;
  // json.dumps(header, sort_keys=True), as RingData.serialize_v1 writes it.
  const json = Buffer.from(pyJsonDumps(header, { sortKeys: true }), 'ascii');
  const pre = Buffer.alloc(10);
  MAGIC.copy(pre, 0);
  pre.writeUInt16BE(1, 4);
  pre.writeUInt32BE(json.length, 6);
  const rows = data.replica2part2dev.map((row) => {
    const b = Buffer.alloc(row.length * 2);
    for (let i = 0; i < row.length; i++) b.writeUInt16LE(row[i]!, 2 * i);
    return b;
  });
  return gzipSync(Buffer.concat([pre, json, ...rows]), { level: 9 });
}

/** Writes atomically (temp file + rename) so a server reloading the ring never sees half a file. */
export function writeRingFile(path: string, data: RingData): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeRing(data), { mode: 0o644 });
  renameSync(tmp, path);
}

/** Fractional replica count as Swift's calc_replica_count: whole rows plus the last row's share. */
export function replicaCountOf(rows: readonly Uint16Array[]): number {
  if (rows.length === 0) return 0;
  return rows.length - 1 + rows[rows.length - 1]!.length / rows[0]!.length;
}

export class Ring {
  private data!: RingData;
  private mtimeMs = 0;
  private nextCheck = 0;
  private assignedDevs = 0;
  private numRegions = 0;
  private numZones = 0;
  private numIps = 0;
  /**
   * Partition by joined path (`a[/c[/o]]`, the hash input): the proxy looks the same few
   * accounts, containers and hot objects up on every request.
   */
  private readonly partByPath = new LRUCache<string, number>({ max: 4096 });
  /** Primary nodes per partition, built on first use; the node objects are frozen (callers share them). */
  private readonly primaries = new LRUCache<number, RingNode[]>({ max: 16384 });

  constructor(
    readonly path: string | null,
    data: RingData,
    private readonly hashCfg: HashPathConfig,
    /** Swift checks the ring file's mtime every 15 s and reloads when it changes. */
    private readonly reloadIntervalMs = 15_000,
  ) {
    this.setData(data);
  }

  static load(path: string, hashCfg: HashPathConfig, reloadIntervalMs?: number): Ring {
    const ring = new Ring(path, deserializeRing(readFileSync(path)), hashCfg, reloadIntervalMs);
    ring.mtimeMs = statSync(path).mtimeMs;
    ring.nextCheck = Date.now() + ring.reloadIntervalMs;
    return ring;
  }

  /** `<swiftDir>/<kind>.ring.gz` (or `object-N.ring.gz` for policy N). */
  static forKind(swiftDir: string, kind: 'account' | 'container' | 'object', hashCfg: HashPathConfig, policyIndex = 0): Ring {
    return Ring.load(join(swiftDir, ringFileName(kind, policyIndex)), hashCfg);
  }

  private setData(data: RingData): void {
    this.data = data;
    this.partByPath.clear();
    this.primaries.clear();
    // As Ring._update_bookkeeping: only devices with partitions count towards the tiers that
    // let getMoreNodes stop early.
    const assigned = new Set<number>();
    for (const row of data.replica2part2dev) for (const id of row) assigned.add(id);
    const regions = new Set<number>();
    const zones = new Set<string>();
    const ips = new Set<string>();
    let count = 0;
    for (const d of data.devs) {
      if (!d || !assigned.has(d.id)) continue;
      count++;
      regions.add(d.region);
      zones.add(`${d.region}/${d.zone}`);
      ips.add(`${d.region}/${d.zone}/${d.ip}`);
    }
    this.assignedDevs = count;
    this.numRegions = regions.size;
    this.numZones = zones.size;
    this.numIps = ips.size;
  }

  private maybeReload(): void {
    if (this.path === null || Date.now() < this.nextCheck) return;
    this.nextCheck = Date.now() + this.reloadIntervalMs;
    try {
      const m = statSync(this.path).mtimeMs;
      if (m !== this.mtimeMs) {
        this.setData(deserializeRing(readFileSync(this.path)));
        this.mtimeMs = m;
      }
    } catch {
      // Keep serving the ring we have; a ring being rewritten must not take the proxy down.
    }
  }

  get partPower(): number {
    return 32 - this.data.partShift;
  }

  get partShift(): number {
    return this.data.partShift;
  }

  get partCount(): number {
    return this.data.replica2part2dev[0]?.length ?? 0;
  }

  /** Full or fractional, as Swift's Ring.replica_count. */
  get replicaCount(): number {
    return replicaCountOf(this.data.replica2part2dev);
  }

  get version(): number | null {
    return this.data.version ?? null;
  }

  get devices(): readonly (RingDevice | null)[] {
    this.maybeReload();
    return this.data.devs;
  }

  getPart(account: string, container?: string, object?: string): number {
    this.maybeReload();
    // Swift tests the names for truth: an empty container or object name is left out.
    if (!container && object) throw new Error('container is required if object is provided');
    const path = joinedPath(account, container, object);
    let part = this.partByPath.get(path);
    if (part === undefined) {
      part = partOf(hashPathOf(this.hashCfg, path), this.data.partShift);
      this.partByPath.set(path, part);
    }
    return part;
  }

  private partNodes(part: number): RingNode[] {
    let nodes = this.primaries.get(part);
    if (!nodes) {
      const seen = new Set<number>();
      const built: RingNode[] = [];
      for (const row of this.data.replica2part2dev) {
        if (part >= row.length) continue;
        const id = row[part]!;
        if (seen.has(id)) continue;
        seen.add(id);
        const dev = this.data.devs[id];
        // `index` is the position among the de-duplicated primaries, as in Swift.
        if (dev) built.push(Object.freeze({ ...dev, index: built.length }));
      }
      nodes = built;
      // Only real partitions: a caller's out-of-range number must not grow the cache.
      if (Number.isInteger(part) && part >= 0 && part < this.partCount) this.primaries.set(part, nodes);
    }
    // A copy the caller may reorder (a frozen array would send slice() down V8's slow path).
    return nodes.slice();
  }

  /** Primary nodes for a partition, de-duplicated by device id. */
  getPartNodes(part: number): RingNode[] {
    this.maybeReload();
    return this.partNodes(part);
  }

  getNodes(account: string, container?: string, object?: string): { part: number; nodes: RingNode[] } {
    const part = this.getPart(account, container, object);
    return { part, nodes: this.partNodes(part) };
  }

  /**
   * Handoff nodes for a partition in Swift's order: walk the partitions from a start point
   * derived from md5(str(part)), taking devices first from unused regions, then unused zones,
   * then unused IPs, then any unused device. The sequence stays mostly stable across rebalances.
   */
  *getMoreNodes(part: number): Generator<HandoffNode> {
    this.maybeReload();
    const { replica2part2dev: rows, devs, partShift } = this.data;
    const primaries = this.partNodes(part);
    const used = new Set(primaries.map((d) => d.id));
    const sameRegions = new Set(primaries.map((d) => d.region));
    const sameZones = new Set(primaries.map((d) => `${d.region}/${d.zone}`));
    const sameIps = new Set(primaries.map((d) => `${d.region}/${d.zone}/${d.ip}`));
    const parts = rows[0]?.length ?? 0;
    if (parts === 0) return;
    const start = partOf(createHash('md5').update(String(part), 'ascii').digest(), partShift);
    const inc = Math.floor(parts / 65536) || 1;
    let handoffIndex = 0;
    const scan = function* (): Generator<number> {
      for (let p = start; p < parts; p += inc) yield p;
      for (let p = inc - ((parts - start) % inc); p < start; p += inc) yield p;
    };
    const emit = (dev: RingDevice): HandoffNode => {
      used.add(dev.id);
      sameRegions.add(dev.region);
      sameZones.add(`${dev.region}/${dev.zone}`);
      sameIps.add(`${dev.region}/${dev.zone}/${dev.ip}`);
      return { ...dev, handoff_index: handoffIndex++ };
    };
    // Tiers from widest to narrowest; the last one ("device") accepts any unused device.
    const tiers: { key: (d: RingDevice) => string | number | null; seen: Set<string | number> | null; total: () => number }[] = [
      { key: (d) => d.region, seen: sameRegions, total: () => this.numRegions },
      { key: (d) => `${d.region}/${d.zone}`, seen: sameZones, total: () => this.numZones },
      { key: (d) => `${d.region}/${d.zone}/${d.ip}`, seen: sameIps, total: () => this.numIps },
      { key: () => null, seen: null, total: () => this.assignedDevs },
    ];
    for (const tier of tiers) {
      const full = () => (tier.seen ? tier.seen.size : used.size) === tier.total();
      if (full()) continue;
      outer: for (const p of scan()) {
        for (const row of rows) {
          if (p >= row.length) continue;
          const id = row[p]!;
          if (used.has(id)) continue;
          const dev = devs[id];
          if (!dev) continue;
          const k = tier.key(dev);
          if (tier.seen && tier.seen.has(k!)) continue;
          yield emit(dev);
          if (full()) break outer;
        }
      }
    }
  }
}

/**
 * `>I` of the digest's first 4 bytes shifted right by part_shift. JS masks shift counts to 5 bits,
 * so a part power 0 ring (part_shift 32) needs its own case: Python's `x >> 32` is 0.
 */
function partOf(digest: Buffer, partShift: number): number {
  return partShift >= 32 ? 0 : partitionOf(digest, partShift);
}

export interface RingBuildDevice {
  region?: number;
  zone?: number;
  ip: string;
  port: number;
  device: string;
  weight?: number;
  replication_ip?: string;
  replication_port?: number;
  meta?: string;
}

/**
 * Builds ring data from scratch: each device gets partitions in proportion to its weight (weight
 * wins over dispersion, as Swift's builder with overload 0), and the replicas of one partition go
 * to distinct devices, spread over distinct regions, zones and IPs when the weights allow it. Fractional replica counts give a
 * shorter last row as Swift's builder does. This is a one-shot placement for development
 * clusters, not Swift's builder with its minimal-movement rebalancing.
 */
export function buildRing(opts: { partPower: number; replicas: number; devices: RingBuildDevice[] }): RingData {
  const { partPower, replicas } = opts;
  if (!Number.isInteger(partPower) || partPower < 0 || partPower > 24) throw new Error('part power must be an integer from 0 to 24');
  if (!Number.isFinite(replicas) || replicas < 1) throw new Error('replicas must be a number >= 1');
  if (opts.devices.length > 65535) throw new Error('a v1 ring holds at most 65535 devices');
  const devs: RingDevice[] = opts.devices.map((d, id) => {
    if (!(typeof d.port === 'number' && Number.isInteger(d.port) && d.port > 0 && d.port < 65536)) throw new Error(`device ${id}: bad port ${d.port}`);
    if (!d.ip) throw new Error(`device ${id}: missing ip`);
    if (!d.device || d.device.includes('/')) throw new Error(`device ${id}: bad device name ${JSON.stringify(d.device)}`);
    const weight = d.weight ?? 1;
    if (!Number.isFinite(weight) || weight < 0) throw new Error(`device ${id}: bad weight ${weight}`);
    return {
      id,
      region: d.region ?? 1,
      zone: d.zone ?? 1,
      ip: d.ip,
      port: d.port,
      replication_ip: d.replication_ip ?? d.ip,
      replication_port: d.replication_port ?? d.port,
      device: d.device,
      weight,
      meta: d.meta ?? '',
    };
  });
  const weighted = devs.filter((d) => d.weight > 0);
  if (weighted.length === 0) throw new Error('a ring needs at least one device with weight');
  const parts = 2 ** partPower;
  const whole = Math.floor(replicas);
  const rowLengths = Array.from({ length: whole }, () => parts);
  const frac = replicas - whole;
  if (frac > 0) rowLengths.push(Math.floor(parts * frac));
  const totalSlots = rowLengths.reduce((s, n) => s + n, 0);
  const totalWeight = weighted.reduce((s, d) => s + d.weight, 0);
  // Slots proportional to weight, but, as Swift's builder, no device holds more than one replica
  // of a partition while others have room: the excess is shared out among the rest by weight.
  const exact = weighted.map((d) => (d.weight / totalWeight) * totalSlots);
  if (weighted.length >= rowLengths.length) {
    for (;;) {
      for (let i = 0; i < exact.length; i++) exact[i] = Math.min(parts, exact[i]!);
      const remaining = totalSlots - exact.reduce((s, x) => s + x, 0);
      if (remaining < 1e-9) break;
      const room = exact.map((x, i) => [x, i] as const).filter(([x]) => x < parts);
      const roomTotal = room.reduce((s, [x]) => s + x, 0);
      for (const [x, i] of room) exact[i] = x + (x / roomTotal) * remaining;
    }
  }
  // Whole slot counts (largest remainder, ties to the lower id).
  const counts = exact.map(Math.floor);
  let missing = totalSlots - counts.reduce((s, n) => s + n, 0);
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (missing-- <= 0) break;
    counts[i]!++;
  }
  // Lay the slots out as one sequence sorted by region, zone, ip, device, and deal it out
  // partition-first (slot k -> part k % parts, replica k / parts). Every tier then occupies a
  // contiguous run, and a run no longer than `parts` touches each partition at most once, so
  // replicas land in distinct regions/zones/IPs/devices whenever the weights allow it.
  const order = weighted
    .map((d, i) => ({ d, n: counts[i]! }))
    .sort((a, b) => a.d.region - b.d.region || a.d.zone - b.d.zone || cmp(a.d.ip, b.d.ip) || a.d.id - b.d.id);
  const rows = rowLengths.map((n) => new Uint16Array(n));
  let k = 0;
  for (const { d, n } of order) {
    for (let i = 0; i < n; i++, k++) rows[Math.floor(k / parts)]![k % parts] = d.id;
  }
  return { devs, replica2part2dev: rows, partShift: 32 - partPower, version: 1 };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Partitions per device (counting every replica), for balance reports. */
export function partsPerDevice(data: RingData): Map<number, number> {
  const counts = new Map<number, number>();
  for (const row of data.replica2part2dev) for (const id of row) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}
