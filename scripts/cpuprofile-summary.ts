/**
 * Summarises V8 .cpuprofile files (node --cpu-prof, as `npm run bench -- --proxy-node-arg=--cpu-prof`
 * writes them): where the samples went by function (self time), by package or source file
 * (self time), and by function including callees (total time); with --callers NAME, the call
 * chains that lead to NAME's self time. Several files (one per worker) add up.
 *
 *   npx tsx scripts/cpuprofile-summary.ts /tmp/prof/*.cpuprofile [--top 40] [--callers writev]
 *
 * Times are sampled wall-clock time on the profiled thread: a busy machine inflates whatever
 * the thread was doing when it lost the CPU (system calls that wake another process above
 * all), so read shares, not absolute times, and compare profiles taken under the same load.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  /** Microseconds. */
  time: number;
  /** Share of all sampled time, 0..1. */
  share: number;
}

export interface Summary {
  /** Microseconds sampled over all profiles. */
  total: number;
  self: Row[];
  byPackage: Row[];
  inclusive: Row[];
  callers: Row[];
}

/** V8's pseudo-frames for time outside JavaScript. */
const META = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function shortUrl(url: string, root: string): string {
  const noRoot = url.startsWith(root) ? url.slice(root.length) : url;
  const nm = noRoot.lastIndexOf('node_modules/');
  return (nm >= 0 ? `nm:${noRoot.slice(nm + 'node_modules/'.length)}` : noRoot).split('?')[0]!;
}

/** The package (node_modules), Node built-in module or source file a frame belongs to. */
function packageOf(url: string, root: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  return m ? `nm:${m[1]}` : shortUrl(url, root);
}

function frameName(f: CallFrame, root: string): string {
  if (META.has(f.functionName)) return f.functionName;
  const name = f.functionName || '(anonymous)';
  return f.url ? `${name} ${shortUrl(f.url, root)}:${f.lineNumber + 1}` : `${name} (native)`;
}

function rows(m: Map<string, number>, total: number, top: number): Row[] {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, time]) => ({ name, time, share: total > 0 ? time / total : 0 }));
}

export function summarize(profiles: CpuProfile[], opts: { top?: number; callers?: string; root?: string } = {}): Summary {
  const top = opts.top ?? 40;
  const root = opts.root ?? pathToFileURL(process.cwd()).href + '/';
  const self = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const callers = new Map<string, number>();
  let total = 0;
  const add = (m: Map<string, number>, k: string, t: number) => m.set(k, (m.get(k) ?? 0) + t);
  for (const p of profiles) {
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const perNode = new Map<number, number>();
    p.samples.forEach((id, i) => perNode.set(id, (perNode.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
    for (const [id, t] of perNode) {
      const node = nodes.get(id);
      if (!node) continue;
      total += t;
      const name = frameName(node.callFrame, root);
      add(self, name, t);
      if (META.has(node.callFrame.functionName)) continue;
      add(byPackage, packageOf(node.callFrame.url, root), t);
      // Total time: every distinct frame on the stack gets the sample once (recursion counts once).
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const f = nodes.get(cur)!.callFrame;
        if (f.functionName === '(root)') continue;
        const k = frameName(f, root);
        if (!seen.has(k)) add(inclusive, k, t);
        seen.add(k);
      }
      if (opts.callers && node.callFrame.functionName === opts.callers) {
        const chain: string[] = [];
        for (let cur = parent.get(id), d = 0; cur !== undefined && d < 6; cur = parent.get(cur), d++) {
          const f = nodes.get(cur)!.callFrame;
          if (f.functionName === '(root)') break;
          chain.push(frameName(f, root));
        }
        add(callers, chain.join(' < ') || '(top)', t);
      }
    }
  }
  return { total, self: rows(self, total, top), byPackage: rows(byPackage, total, top), inclusive: rows(inclusive, total, top), callers: rows(callers, total, top) };
}

export function formatSummary(s: Summary, callers?: string): string {
  const table = (title: string, r: Row[]) => [`\n== ${title}`, ...r.map((x) => `${(100 * x.share).toFixed(1).padStart(5)}%  ${(x.time / 1000).toFixed(0).padStart(8)} ms  ${x.name}`)];
  return [
    `sampled ${(s.total / 1e6).toFixed(2)} s`,
    ...table('self time by function', s.self),
    ...table('self time by package or file', s.byPackage),
    ...table('total time by function (callees included)', s.inclusive),
    ...(callers ? table(`callers of ${callers} (its self time)`, s.callers) : []),
  ].join('\n');
}

export function main(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { top: { type: 'string' }, callers: { type: 'string' } } });
  if (positionals.length === 0) {
    process.stderr.write('usage: cpuprofile-summary.ts FILE.cpuprofile... [--top N] [--callers FUNCTION]\n');
    return 2;
  }
  const top = values.top === undefined ? 40 : Number(values.top);
  if (!Number.isInteger(top) || top < 0) {
    process.stderr.write(`--top must be a whole number (got ${values.top})\n`);
    return 2;
  }
  const profiles = positionals.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile);
  process.stdout.write(formatSummary(summarize(profiles, { top, callers: values.callers }), values.callers) + '\n');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
