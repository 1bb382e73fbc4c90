/**
 * The pure half of scripts/bench-compare-swift.ts: rounds folded into one row per operation, the
 * sluice/Swift ratio, the non-2xx rule, the 1 GiB streaming verdict, and the Markdown tables.
 */
import type { OpStats } from '../bench';

/** One operation over all rounds, for one side (sluice or Swift). */
export interface SideSummary {
  /** Mean over the rounds. */
  reqPerSec: number;
  mbPerSec: number;
  /** The worst round's (a tail must not hide behind an average). */
  p50Ms: number;
  p99Ms: number;
  /** Each round's req/s, in measuring order. */
  rounds: number[];
  requests: number;
  errors: number;
  non2xx: number;
  /** Non-2xx statuses and their counts, over all rounds. */
  badStatuses: Record<string, number>;
  /** Any non-2xx answer in any round fails the row. */
  failed: boolean;
  peakRssMiB: number | null;
  cpuUsPerReq: number | null;
  storageCpuUsPerReq: number | null;
}

export interface CompareRow {
  op: string;
  label: string;
  bytes: boolean;
  sluice: SideSummary;
  swift: SideSummary;
  /** sluice req/s over Swift's; null when Swift served nothing. */
  ratio: number | null;
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const maxOrNull = (xs: (number | null)[]): number | null => {
  const known = xs.filter((x): x is number => x !== null);
  return known.length ? Math.max(...known) : null;
};
const meanOrNull = (xs: (number | null)[]): number | null => {
  const known = xs.filter((x): x is number => x !== null);
  return known.length ? mean(known) : null;
};

export function summarize(rounds: readonly OpStats[]): SideSummary {
  if (!rounds.length) throw new Error('no rounds to summarize');
  const badStatuses: Record<string, number> = {};
  for (const r of rounds) {
    for (const [code, n] of Object.entries(r.statusCodes)) if (!/^2\d\d$/.test(code) && n > 0) badStatuses[code] = (badStatuses[code] ?? 0) + n;
  }
  const non2xx = rounds.reduce((a, r) => a + r.non2xx, 0);
  return {
    reqPerSec: mean(rounds.map((r) => r.reqPerSec)),
    mbPerSec: mean(rounds.map((r) => r.mbPerSec)),
    p50Ms: Math.max(...rounds.map((r) => r.p50Ms)),
    p99Ms: Math.max(...rounds.map((r) => r.p99Ms)),
    rounds: rounds.map((r) => r.reqPerSec),
    requests: rounds.reduce((a, r) => a + r.requests, 0),
    errors: rounds.reduce((a, r) => a + r.errors, 0),
    non2xx,
    badStatuses,
    failed: non2xx > 0 || rounds.some((r) => r.failed),
    peakRssMiB: maxOrNull(rounds.map((r) => r.peakRssMiB)),
    cpuUsPerReq: meanOrNull(rounds.map((r) => r.cpuUsPerReq)),
    storageCpuUsPerReq: meanOrNull(rounds.map((r) => r.storageCpuUsPerReq)),
  };
}

export function ratio(sluice: number, swift: number): number | null {
  return swift > 0 && Number.isFinite(sluice) ? sluice / swift : null;
}

export function compareRow(op: string, label: string, bytes: boolean, sluice: readonly OpStats[], swift: readonly OpStats[]): CompareRow {
  const s = summarize(sluice);
  const w = summarize(swift);
  return { op, label, bytes, sluice: s, swift: w, ratio: ratio(s.reqPerSec, w.reqPerSec) };
}

/** The rows that fail the bench: any non-2xx on either side ("sluice" / "Swift" named). */
export function failures(rows: readonly CompareRow[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    for (const [side, s] of [['sluice', r.sluice], ['Swift', r.swift]] as const) {
      if (s.failed) out.push(`${r.label}, ${side}: ${s.non2xx} of ${s.requests} answers non-2xx (${statusList(s.badStatuses)})`);
    }
  }
  return out;
}

/**
 * What sluice's proxy logged about failed answers (wrk counts non-2xx but not which): the
 * access lines with a status of 400 or more, except the 499s of connections the load generator
 * closed at the end of a run, and error lines, at most `limit` of each, one line apiece.
 */
export function failedAnswersInLog(text: string, limit = 10): string[] {
  const answers: string[] = [];
  const errors: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const status = entry.status;
    if (entry.log_route === 'proxy-access' && typeof status === 'number' && status >= 400 && status !== 499) {
      if (answers.length < limit) answers.push(`${status} ${String(entry.method)} ${String(entry.path)} ${String(entry.transaction_id)}`);
    } else if (typeof entry.level === 'number' && entry.level >= 50 && errors.length < limit) {
      errors.push(`error: ${String(entry.msg ?? '')}${entry.err === undefined ? '' : ` (${JSON.stringify(entry.err)})`}`);
    }
  }
  return [...answers, ...errors];
}

function statusList(codes: Record<string, number>): string {
  return Object.entries(codes).map(([c, n]) => `${c} ×${n}`).join(', ') || 'no status recorded';
}

const fixed = (v: number | null, d: number): string => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(d));
/** Thousands separated, as the README writes its figures. */
const grouped = (v: number | null): string => (v === null || !Number.isFinite(v) ? '-' : Math.round(v).toLocaleString('en-US'));

function rate(row: CompareRow, s: SideSummary): string {
  return row.bytes ? `${grouped(s.reqPerSec)} (${fixed(s.mbPerSec, 0)} MB/s)` : grouped(s.reqPerSec);
}

function non2xxCell(s: SideSummary): string {
  return s.failed ? `**FAILED ${s.non2xx}** (${statusList(s.badStatuses)})` : String(s.non2xx);
}

export const COMPARE_COLUMNS = [
  'operation',
  'sluice req/s',
  'Swift req/s',
  'sluice/Swift',
  'sluice p50 / p99 ms',
  'Swift p50 / p99 ms',
  'non-2xx sluice / Swift',
  'proxy peak RSS MiB sluice / Swift',
  'proxy CPU µs/req sluice / Swift',
  'storage CPU µs/req sluice / Swift',
] as const;

export function compareCells(r: CompareRow): string[] {
  const { sluice: s, swift: w } = r;
  return [
    r.label,
    rate(r, s),
    rate(r, w),
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`,
    `${fixed(s.p50Ms, 0)} / ${fixed(s.p99Ms, 0)}`,
    `${fixed(w.p50Ms, 0)} / ${fixed(w.p99Ms, 0)}`,
    `${non2xxCell(s)} / ${non2xxCell(w)}`,
    `${fixed(s.peakRssMiB, 0)} / ${fixed(w.peakRssMiB, 0)}`,
    `${fixed(s.cpuUsPerReq, 0)} / ${fixed(w.cpuUsPerReq, 0)}`,
    `${fixed(s.storageCpuUsPerReq, 0)} / ${fixed(w.storageCpuUsPerReq, 0)}`,
  ];
}

/** A Markdown table; the first column left-aligned, the others right-aligned. */
export function markdownTable(columns: readonly string[], rows: readonly string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(columns), sep, ...rows.map(line)].join('\n');
}

export function formatCompare(rows: readonly CompareRow[]): string {
  const lines = [markdownTable(COMPARE_COLUMNS, rows.map(compareCells)), '', 'req/s per round (sluice | Swift):'];
  for (const r of rows) lines.push(`- ${r.label}: ${r.sluice.rounds.map((x) => grouped(x)).join(', ')} | ${r.swift.rounds.map((x) => grouped(x)).join(', ')}`);
  const failed = failures(rows);
  if (failed.length) lines.push('', `FAILED: ${failed.length} row side(s) with non-2xx answers (their figures measure errors, not the operation):`, ...failed.map((f) => `- ${f}`));
  return lines.join('\n');
}

/** One 1 GiB PUT or GET through a proxy, with the proxy's RSS before and during it. */
export interface BigTransfer {
  target: string;
  method: 'PUT' | 'GET';
  /** What was transferred when not one plain object: `SLO` (a manifest of ranged segments). */
  kind?: 'SLO';
  bytes: number;
  seconds: number;
  status: number;
  /** Proxy process tree (primary + workers), MiB: idle just before, peak during. */
  idleRssMiB: number | null;
  peakRssMiB: number | null;
}

/** The RSS growth allowed for "flat": the proxy's buffers, not the object. */
export const FLAT_RSS_MIB = 64;

export function rssGrowth(t: BigTransfer): number | null {
  return t.idleRssMiB === null || t.peakRssMiB === null ? null : t.peakRssMiB - t.idleRssMiB;
}

export function isFlat(t: BigTransfer, limitMiB = FLAT_RSS_MIB): boolean | null {
  const g = rssGrowth(t);
  return g === null ? null : g < limitMiB;
}

export function bigOk(t: BigTransfer, size: number): boolean {
  return t.status >= 200 && t.status < 300 && t.bytes === size;
}

export const BIG_COLUMNS = ['transfer', 'status', 'MB/s', 'seconds', 'proxy RSS idle MiB', 'proxy RSS peak MiB', 'growth MiB', `flat (< ${FLAT_RSS_MIB} MiB)`] as const;

export function formatBig(transfers: readonly BigTransfer[], size: number): string {
  const rows = transfers.map((t) => {
    const flat = isFlat(t);
    return [
      `${t.method} ${size / 2 ** 30} GiB${t.kind ? ` ${t.kind}` : ''}, ${t.target}`,
      bigOk(t, size) ? String(t.status) : `**FAILED ${t.status}** (${t.bytes} of ${size} bytes)`,
      fixed(t.seconds > 0 ? t.bytes / t.seconds / 1e6 : null, 0),
      fixed(t.seconds, 1),
      fixed(t.idleRssMiB, 0),
      fixed(t.peakRssMiB, 0),
      fixed(rssGrowth(t), 0),
      flat === null ? '-' : flat ? 'yes' : '**no**',
    ];
  });
  return markdownTable(BIG_COLUMNS, rows);
}
