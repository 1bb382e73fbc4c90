/**
 * Swift rings, v1 on-disk format (swift.common.ring.ring.RingData, format version 1):
 *
 *   gzip( b'R1NG' | !H version=1 | !I json_len | json header | replica_count x array('H') )
 *
 * The JSON header holds `devs`, `part_shift`, `replica_count`, `byteorder` and optionally
 * `version` / `next_part_power`. Each replica row has 2**(32-part_shift) unsigned 16-bit device
 * ids in `byteorder`; the last row may be shorter (fractional replica counts).
 */
import { readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { hashPathDigest, partitionOf, type HashPathConfig } from './hash-path';

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

/** A node as returned for a partition: the device plus its replica index. */
export type RingNode = RingDevice & { index: number };

export interface RingData {
  devs: (RingDevice | null)[];
  replica2part2dev: Uint16Array[];
  partShift: number;
  version?: number | null;
  nextPartPower?: number | null;
}

export class RingFormatError extends Error {}

const MAGIC = Buffer.from('R1NG', 'latin1');

export function deserializeRing(gz: Buffer): RingData {
  let raw: Buffer;
  try {
    raw = gunzipSync(gz);
  } catch (err) {
    throw new RingFormatError(`ring is not gzip data: ${(err as Error).message}`);
  }
  if (raw.length < 10 || !raw.subarray(0, 4).equals(MAGIC)) {
    throw new RingFormatError('bad ring magic (pickled rings are not supported; rewrite the ring with a v1 writer)');
  }
  const version = raw.readUInt16BE(4);
  if (version !== 1) throw new RingFormatError(`unsupported ring format version ${version}`);
  const jsonLen = raw.readUInt32BE(6);
  const header = JSON.parse(raw.subarray(10, 10 + jsonLen).toString('utf8')) as {
    devs: (Partial<RingDevice> | null)[];
    part_shift: number;
    replica_count: number;
    byteorder: 'little' | 'big';
    version?: number | null;
    next_part_power?: number | null;
  };
  const partCount = 2 ** (32 - header.part_shift);
  let pos = 10 + jsonLen;
  const rows: Uint16Array[] = [];
  for (let r = 0; r < header.replica_count; r++) {
    const bytes = Math.min(2 * partCount, raw.length - pos);
    const row = new Uint16Array(bytes >> 1);
    for (let i = 0; i < row.length; i++) {
      row[i] = header.byteorder === 'big' ? raw.readUInt16BE(pos + 2 * i) : raw.readUInt16LE(pos + 2 * i);
    }
    pos += bytes;
    rows.push(row);
  }
  const devs = header.devs.map((d) => (d ? normaliseDevice(d) : null));
  return { devs, replica2part2dev: rows, partShift: header.part_shift, version: header.version ?? null, nextPartPower: header.next_part_power ?? null };
}

function normaliseDevice(d: Partial<RingDevice>): RingDevice {
  return {
    ...d,
    id: d.id!,
    region: d.region ?? 1,
    zone: d.zone ?? 1,
    ip: d.ip!,
    port: d.port!,
    replication_ip: d.replication_ip ?? d.ip!,
    replication_port: d.replication_port ?? d.port!,
    device: d.device!,
    weight: d.weight ?? 0,
    meta: d.meta ?? '',
  };
}

export function serializeRing(data: RingData): Buffer {
  const header = JSON.stringify({
    devs: data.devs,
    part_shift: data.partShift,
    replica_count: data.replica2part2dev.length,
    byteorder: 'little',
    version: data.version ?? null,
    next_part_power: data.nextPartPower ?? null,
  });
  const json = Buffer.from(header, 'utf8');
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

export function writeRingFile(path: string, data: RingData): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeRing(data));
  renameSync(tmp, path);
}

export class Ring {
  private data: RingData;
  private mtimeMs = 0;
  private nextCheck = 0;

  constructor(
    readonly path: string | null,
    data: RingData,
    private readonly hashCfg: HashPathConfig,
    /** Swift checks the ring file's mtime every 15 s and reloads when it changes. */
    private readonly reloadIntervalMs = 15_000,
  ) {
    this.data = data;
  }

  static load(path: string, hashCfg: HashPathConfig, reloadIntervalMs?: number): Ring {
    const ring = new Ring(path, deserializeRing(readFileSync(path)), hashCfg, reloadIntervalMs);
    ring.mtimeMs = statSync(path).mtimeMs;
    ring.nextCheck = Date.now() + ring.reloadIntervalMs;
    return ring;
  }

  private maybeReload(): void {
    if (this.path === null || Date.now() < this.nextCheck) return;
    this.nextCheck = Date.now() + this.reloadIntervalMs;
    try {
      const m = statSync(this.path).mtimeMs;
      if (m !== this.mtimeMs) {
        this.data = deserializeRing(readFileSync(this.path));
        this.mtimeMs = m;
      }
    } catch {
      // Keep serving the ring we have; a ring being rewritten must not take the proxy down.
    }
  }

  get partPower(): number {
    return 32 - this.data.partShift;
  }

  get partCount(): number {
    return this.data.replica2part2dev[0]?.length ?? 0;
  }

  get replicaCount(): number {
    return this.data.replica2part2dev.length;
  }

  get devices(): readonly (RingDevice | null)[] {
    this.maybeReload();
    return this.data.devs;
  }

  getPart(account: string, container?: string, object?: string): number {
    this.maybeReload();
    return partitionOf(hashPathDigest(this.hashCfg, account, container, object), this.data.partShift);
  }

  /** Primary nodes for a partition, de-duplicated by device id, each with its replica index. */
  getPartNodes(part: number): RingNode[] {
    this.maybeReload();
    const seen = new Set<number>();
    const nodes: RingNode[] = [];
    this.data.replica2part2dev.forEach((row, index) => {
      if (part >= row.length) return;
      const id = row[part]!;
      if (seen.has(id)) return;
      seen.add(id);
      const dev = this.data.devs[id];
      if (dev) nodes.push({ ...dev, index });
    });
    return nodes;
  }

  getNodes(account: string, container?: string, object?: string): { part: number; nodes: RingNode[] } {
    const part = this.getPart(account, container, object);
    return { part, nodes: this.getPartNodes(part) };
  }

  /**
   * Handoff nodes for a partition: every other weighted device, those in zones the primaries do
   * not use first, in an order that depends on the partition so handoff load spreads out.
   */
  *getMoreNodes(part: number): Generator<RingNode> {
    const primaries = this.getPartNodes(part);
    const used = new Set(primaries.map((n) => n.id));
    const usedZones = new Set(primaries.map((n) => `${n.region}/${n.zone}`));
    const candidates = this.data.devs.filter((d): d is RingDevice => !!d && d.weight > 0 && !used.has(d.id));
    const start = candidates.length ? part % candidates.length : 0;
    const rotated = [...candidates.slice(start), ...candidates.slice(0, start)];
    const ordered = [
      ...rotated.filter((d) => !usedZones.has(`${d.region}/${d.zone}`)),
      ...rotated.filter((d) => usedZones.has(`${d.region}/${d.zone}`)),
    ];
    let index = primaries.length;
    for (const d of ordered) yield { ...d, index: index++ };
  }
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
 * Builds ring data from scratch: each device gets partitions in proportion to its weight, and
 * the replicas of one partition land on distinct devices, spread over distinct zones when it can.
 * This is a one-shot placement for development clusters, not Swift's builder with its
 * minimal-movement rebalancing.
 */
export function buildRing(opts: { partPower: number; replicas: number; devices: RingBuildDevice[] }): RingData {
  const { partPower, replicas } = opts;
  if (!Number.isInteger(partPower) || partPower < 0 || partPower > 24) throw new Error('part power must be an integer from 0 to 24');
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error('replicas must be a positive integer');
  const devs: RingDevice[] = opts.devices.map((d, id) => ({
    id,
    region: d.region ?? 1,
    zone: d.zone ?? 1,
    ip: d.ip,
    port: d.port,
    replication_ip: d.replication_ip ?? d.ip,
    replication_port: d.replication_port ?? d.port,
    device: d.device,
    weight: d.weight ?? 1,
    meta: d.meta ?? '',
  }));
  const weighted = devs.filter((d) => d.weight > 0);
  if (weighted.length < replicas) throw new Error(`${replicas} replicas need at least ${replicas} devices with weight (have ${weighted.length})`);
  const parts = 2 ** partPower;
  const totalWeight = weighted.reduce((s, d) => s + d.weight, 0);
  const wanted = new Map(weighted.map((d) => [d.id, (d.weight / totalWeight) * parts * replicas]));
  const rows = Array.from({ length: replicas }, () => new Uint16Array(parts));
  for (let p = 0; p < parts; p++) {
    const chosen: RingDevice[] = [];
    for (let r = 0; r < replicas; r++) {
      let best: RingDevice | undefined;
      let bestScore = -Infinity;
      for (const d of weighted) {
        if (chosen.some((c) => c.id === d.id)) continue;
        const sharesZone = chosen.some((c) => c.region === d.region && c.zone === d.zone);
        const score = wanted.get(d.id)! - (sharesZone ? parts * replicas : 0);
        if (score > bestScore) {
          bestScore = score;
          best = d;
        }
      }
      chosen.push(best!);
      wanted.set(best!.id, wanted.get(best!.id)! - 1);
      rows[r]![p] = best!.id;
    }
  }
  return { devs, replica2part2dev: rows, partShift: 32 - partPower, version: 1 };
}
