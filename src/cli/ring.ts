/**
 * `sluice ring build` and `sluice ring show`: write and inspect Swift v1 ring files.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildRing,
  deserializeRing,
  partsPerDevice,
  replicaCountOf,
  ringFileName,
  writeRingFile,
  type RingBuildDevice,
  type RingData,
} from '../common/ring';
import { UsageError } from './errors';

export const RING_USAGE = `Usage:
  sluice ring build <account|container|object|object-N> (--out FILE | --swift-dir DIR)
                    --part-power N --replicas R --device SPEC [--device SPEC ...]
  sluice ring show FILE

Device SPEC: [r<region>]z<zone>-<ip>:<port>[R<replication-ip>:<replication-port>]/<device>[:<weight>]
  e.g. r1z1-127.0.0.1:6202/sda   r1z2-[::1]:6202/sdb:200   (region 1 and weight 1 by default;
  the zone prefix may be left out for zone 1)
With --swift-dir the ring is written as <DIR>/<name>.ring.gz (object-0 is object.ring.gz), where
Swift's servers and proxy look for it.`;

/** `[r1]z1-ip:port[Rip:port]/device[:weight]`, as swift-ring-builder's `add` spelling. */
export function parseDeviceSpec(spec: string): RingBuildDevice {
  const host = String.raw`(\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]R]+)`;
  const re = new RegExp(
    String.raw`^(?:(?:r(\d+))?z(\d+)-)?` + host + String.raw`:(\d+)(?:R` + host + String.raw`:(\d+))?/([^/:\s]+)(?::([0-9]*\.?[0-9]+))?$`,
  );
  const m = re.exec(spec);
  if (!m) throw new UsageError(`bad device spec ${JSON.stringify(spec)}: expected like r1z1-127.0.0.1:6202/sda[:weight]`, RING_USAGE);
  const [, region, zone, ip, port, rip, rport, device, weight] = m;
  const unbracket = (h: string) => (h.startsWith('[') ? h.slice(1, -1) : h);
  const checkIp = (h: string) => {
    const bare = unbracket(h);
    // Swift accepts host names in rings too, but a bracketed host must be an IPv6 address.
    if (h.startsWith('[') && isIP(bare) !== 6) throw new UsageError(`bad IPv6 address in device spec ${JSON.stringify(spec)}`, RING_USAGE);
    return bare;
  };
  const checkPort = (p: string) => {
    const n = Number(p);
    if (!(n > 0 && n < 65536)) throw new UsageError(`bad port ${p} in device spec ${JSON.stringify(spec)}`, RING_USAGE);
    return n;
  };
  if (device === '.' || device === '..') throw new UsageError(`bad device name in ${JSON.stringify(spec)}`, RING_USAGE);
  const dev: RingBuildDevice = {
    region: region ? Number(region) : 1,
    zone: zone ? Number(zone) : 1,
    ip: checkIp(ip!),
    port: checkPort(port!),
    device: device!,
    weight: weight !== undefined ? Number(weight) : 1,
  };
  if (rip !== undefined) {
    dev.replication_ip = checkIp(rip);
    dev.replication_port = checkPort(rport!);
  }
  return dev;
}

const KIND_RE = /^(account|container|object)(?:-(\d+))?$/;

function ringPathFor(kind: string, swiftDir: string): string {
  const m = KIND_RE.exec(kind)!;
  return join(swiftDir, ringFileName(m[1] as 'account' | 'container' | 'object', m[2] ? Number(m[2]) : 0));
}

function intOption(name: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined) throw new UsageError(`--${name} is required`, RING_USAGE);
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`, RING_USAGE);
  }
  return Number(value);
}

export function ringBuild(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: 'string', short: 'o' },
      'swift-dir': { type: 'string' },
      'part-power': { type: 'string' },
      replicas: { type: 'string' },
      device: { type: 'string', multiple: true },
    },
  });
  if (positionals.length !== 1) throw new UsageError('ring build needs exactly one ring name (account, container, object or object-N)', RING_USAGE);
  const kind = positionals[0]!;
  if (!KIND_RE.test(kind)) throw new UsageError(`unknown ring ${JSON.stringify(kind)}: expected account, container, object or object-N`, RING_USAGE);
  if (!!values.out === !!values['swift-dir']) throw new UsageError('give one of --out FILE or --swift-dir DIR', RING_USAGE);
  const partPower = intOption('part-power', values['part-power'], 0, 24);
  const replicasRaw = values.replicas;
  if (replicasRaw === undefined) throw new UsageError('--replicas is required', RING_USAGE);
  const replicas = Number(replicasRaw);
  if (!/^\d+(\.\d+)?$/.test(replicasRaw) || !(replicas >= 1)) throw new UsageError(`--replicas must be a number >= 1 (got ${JSON.stringify(replicasRaw)})`, RING_USAGE);
  const specs = values.device ?? [];
  if (specs.length === 0) throw new UsageError('at least one --device is needed', RING_USAGE);
  const devices = specs.map(parseDeviceSpec);
  const seen = new Set<string>();
  for (const d of devices) {
    const key = `${d.ip}:${d.port}/${d.device}`;
    if (seen.has(key)) throw new UsageError(`device ${key} given twice`, RING_USAGE);
    seen.add(key);
  }
  let target: string;
  if (values['swift-dir']) {
    const dir = resolve(values['swift-dir']);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--swift-dir ${dir} is not a directory`, RING_USAGE);
    target = ringPathFor(kind, dir);
  } else {
    target = resolve(values.out!);
  }
  let data: RingData;
  try {
    data = buildRing({ partPower, replicas, devices });
  } catch (err) {
    throw new UsageError((err as Error).message, RING_USAGE);
  }
  writeRingFile(target, data);
  out(`wrote ${target}: ${kind} ring, 2^${partPower} partitions, ${replicas} replicas, ${devices.length} devices`);
  return 0;
}

export function ringShow(args: string[], out: (s: string) => void): number {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {} });
  if (positionals.length !== 1) throw new UsageError('ring show needs exactly one ring file', RING_USAGE);
  const file = positionals[0]!;
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const data = deserializeRing(buf);
  for (const line of describeRing(file, data)) out(line);
  return 0;
}

/** A report in the spirit of `swift-ring-builder X.builder`: totals, then one line per device. */
export function describeRing(name: string, data: RingData): string[] {
  const rows = data.replica2part2dev;
  const parts = rows[0]?.length ?? 2 ** (32 - data.partShift);
  const replicas = replicaCountOf(rows);
  const devs = data.devs.filter((d) => d !== null);
  const counts = partsPerDevice(data);
  const slots = rows.reduce((s, r) => s + r.length, 0);
  const totalWeight = devs.reduce((s, d) => s + (d.weight > 0 ? d.weight : 0), 0);
  const regions = new Set(devs.map((d) => d.region)).size;
  const zones = new Set(devs.map((d) => `${d.region}/${d.zone}`)).size;
  // Balance as Swift reports it: how far each device's share is from what its weight asks for.
  const balanceOf = (id: number, weight: number): number => {
    const got = counts.get(id) ?? 0;
    if (weight <= 0) return got > 0 ? 999.99 : 0;
    const want = (weight / totalWeight) * slots;
    return (100 * got) / want - 100;
  };
  let maxBalance = 0;
  for (const d of devs) maxBalance = Math.max(maxBalance, Math.abs(balanceOf(d.id, d.weight)));
  let undispersed = 0;
  for (let p = 0; p < parts; p++) {
    const ids = rows.filter((r) => p < r.length).map((r) => r[p]!);
    if (new Set(ids).size < ids.length) undispersed++;
  }
  const lines = [
    `${name}, version ${data.version ?? 'unknown'}`,
    `${parts} partitions (part power ${32 - data.partShift}), ${Number(replicas.toFixed(6))} replicas, ${regions} regions, ${zones} zones, ` +
      `${devs.length} devices, ${maxBalance.toFixed(2)} balance`,
    `Partitions with more than one replica on the same device: ${undispersed}`,
  ];
  if (data.nextPartPower !== null && data.nextPartPower !== undefined) lines.push(`Next part power: ${data.nextPartPower}`);
  lines.push('Devices:');
  const table = [['id', 'region', 'zone', 'ip address:port', 'replication ip:port', 'name', 'weight', 'partitions', 'balance', 'meta']];
  const addr = (ip: string, port: number) => `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
  for (const d of devs) {
    table.push([
      String(d.id),
      String(d.region),
      String(d.zone),
      addr(d.ip, d.port),
      addr(d.replication_ip, d.replication_port),
      d.device,
      d.weight.toFixed(2),
      String(counts.get(d.id) ?? 0),
      balanceOf(d.id, d.weight).toFixed(2),
      d.meta ?? '',
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const r of table) lines.push('  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padStart(widths[i]!))).join('  ').trimEnd());
  return lines;
}
