/**
 * Differential harness (issue 11): the same raw requests to Debian's Swift 2.30 and to sluice,
 * both running Swift's development (SAIO) pipeline, answers compared on status line, header
 * names (with their case), header values and bodies after normalising what is volatile.
 *
 *   npm run differential [-- --case <id>[,<id>…]] [--verbose]
 *
 * One line per case: PASS, EXPECTED (every difference is a deliberate one, listed in
 * scripts/lib/differential-known.ts with its README row) or FAIL (with the first differences);
 * then a summary. Exits 1 on any FAIL, 2 when the clusters cannot start. KEEP=1 keeps the work
 * directory. Cases: scripts/lib/differential-cases.ts.
 */
import { startClusters, type Side } from './lib/differential-clusters';
import { USERS } from './lib/differential-config';
import { CASES, type Case, type SideContext, type StepSpec } from './lib/differential-cases';
import { compareAnswers, judge, type Difference, type StepDifferences } from './lib/differential-compare';
import { exchange, type WireRequest, type WireResponse } from './lib/differential-http';
import { KNOWN_DIFFERENCES } from './lib/differential-known';
import { wireRequest } from './lib/differential-request';

interface Args {
  cases?: Set<string>;
  verbose: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--verbose' || a === '-v') args.verbose = true;
    else if (a === '--case') args.cases = new Set([...(args.cases ?? []), ...(argv[++i] ?? '').split(',').filter(Boolean)]);
    else if (a.startsWith('--case=')) args.cases = new Set([...(args.cases ?? []), ...a.slice(7).split(',').filter(Boolean)]);
    else throw new Error(`unknown argument ${a} (use --case <id> and --verbose)`);
  }
  return args;
}

async function login(side: Side): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const [user, key] of Object.entries(USERS)) {
    const r = await exchange(side.port, { method: 'GET', target: '/auth/v1.0', headers: [['Host', `127.0.0.1:${side.port}`], ['X-Auth-User', user], ['X-Auth-Key', key]] });
    const token = r.headers.find(([k]) => k.toLowerCase() === 'x-auth-token')?.[1];
    if (r.status !== 200 || !token) throw new Error(`${side.name}: login as ${user} answered ${r.status} ${r.reason}`);
    tokens.set(user, token);
  }
  return tokens;
}

interface CaseRun {
  steps: StepDifferences[];
  answers: Array<{ label: string; swift: WireResponse; sluice: WireResponse; swiftReq: WireRequest; sluiceReq: WireRequest }>;
}

async function runCase(k: Case, ctxs: { swift: SideContext; sluice: SideContext }, ports: number[]): Promise<CaseRun> {
  const run: CaseRun = { steps: [], answers: [] };
  const one = async (spec: StepSpec) => {
    const swiftReq = wireRequest(spec, ctxs.swift);
    const sluiceReq = wireRequest(spec, ctxs.sluice);
    const [swift, sluice] = await Promise.all([exchange(ctxs.swift.port, swiftReq), exchange(ctxs.sluice.port, sluiceReq)]);
    return { swift, sluice, swiftReq, sluiceReq };
  };
  for (const [i, spec] of (k.setup ?? []).entries()) {
    const a = await one(spec);
    run.answers.push({ label: `setup ${i}`, ...a });
    if (a.swift.status !== a.sluice.status) run.steps.push({ step: 'setup', diffs: [{ aspect: 'status', swift: String(a.swift.status), sluice: String(a.sluice.status) }] });
  }
  for (const [i, spec] of k.steps.entries()) {
    const a = await one(spec);
    run.answers.push({ label: `step ${i}`, ...a });
    const storedManifest = Buffer.from(a.swiftReq.target).toString('latin1').includes('multipart-manifest=get');
    run.steps.push({ step: i, diffs: compareAnswers(a.swift, a.sluice, { ports }, { storedManifest }) });
  }
  return run;
}

function printable(buf: Buffer, limit = 3000): string {
  const s = buf.toString('latin1').replace(/[^\x09\x0a\x0d\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s.length > limit ? `${s.slice(0, limit)}… (${buf.length} bytes)` : s;
}

function clip(s: string, n = 160): string {
  const one = s.replace(/\n/g, '⏎');
  return one.length > n ? `${one.slice(0, n)}…` : one;
}

/** Long values (bodies) are shown from a little before their first difference. */
function describe(d: Difference): string {
  let at = 0;
  while (at < d.swift.length && d.swift[at] === d.sluice[at]) at++;
  const from = Math.max(0, at - 40);
  const cut = (s: string) => (from ? '…' : '') + clip(s.slice(from));
  return `${d.aspect}: swift ${JSON.stringify(cut(d.swift))} sluice ${JSON.stringify(cut(d.sluice))}`;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const selected = CASES.filter((k) => !args.cases || args.cases.has(k.id));
  if (args.cases) {
    const unknown = [...args.cases].filter((id) => !CASES.some((k) => k.id === id));
    if (unknown.length) throw new Error(`no such case: ${unknown.join(', ')}`);
  }
  const started = Date.now();
  let clusters;
  try {
    clusters = await startClusters();
  } catch (err) {
    console.error(`differential: the clusters did not start: ${(err as Error).message}`);
    return 2;
  }
  const counts = { PASS: 0, EXPECTED: 0, FAIL: 0 };
  try {
    const [swiftTokens, sluiceTokens] = await Promise.all([login(clusters.swift), login(clusters.sluice)]);
    const now = Math.floor(Date.now() / 1000);
    const ctx = (side: Side, tokens: Map<string, string>): SideContext => ({ port: side.port, now, token: (u) => tokens.get(u) ?? `no-token-for-${u}` });
    const ctxs = { swift: ctx(clusters.swift, swiftTokens), sluice: ctx(clusters.sluice, sluiceTokens) };
    const ports = [clusters.swift.port, clusters.sluice.port];
    console.log(`differential: Swift on ${clusters.swift.port}, sluice on ${clusters.sluice.port}, ${selected.length} cases (${clusters.readiness})`);

    // A few cases at a time: each has containers of its own; the ratelimit cases are timed by
    // their own two requests only. Cases reading account-wide state run alone, afterwards.
    const results = new Map<string, string[]>();
    const queue = selected.filter((k) => !k.exclusive);
    const worker = async () => {
      for (let k = queue.shift(); k; k = queue.shift()) {
        const run = await runCase(k, ctxs, ports);
        const verdict = judge(k.id, run.steps, KNOWN_DIFFERENCES);
        counts[verdict.kind]++;
        const lines: string[] = [];
        if (verdict.kind === 'PASS') lines.push(`PASS ${k.id}`);
        else if (verdict.kind === 'EXPECTED') lines.push(`EXPECTED ${k.id}: ${verdict.known.map((x) => `${x.what} (README: "${x.readmeRow}")`).join('; ')}`);
        else {
          lines.push(`FAIL ${k.id}`);
          for (const u of verdict.unexplained.slice(0, args.verbose ? 100 : 4)) lines.push(`    ${u.step === 'setup' ? 'setup' : `step ${u.step}`} ${describe(u.diff)}`);
          if (!args.verbose && verdict.unexplained.length > 4) lines.push(`    … ${verdict.unexplained.length - 4} more (--case ${k.id} --verbose)`);
        }
        if (args.verbose) {
          for (const a of run.answers) {
            lines.push(`  --- ${a.label}: ${a.swiftReq.method} ${printable(Buffer.from(typeof a.swiftReq.target === 'string' ? Buffer.from(a.swiftReq.target, 'latin1') : a.swiftReq.target), 200)}`);
            lines.push(`  [swift]\n${printable(a.swift.raw)}${a.swift.error ? `\n  (error: ${a.swift.error})` : ''}`);
            lines.push(`  [sluice]\n${printable(a.sluice.raw)}${a.sluice.error ? `\n  (error: ${a.sluice.error})` : ''}`);
          }
        }
        results.set(k.id, lines);
      }
    };
    await Promise.all(Array.from({ length: Math.min(6, queue.length) }, worker));
    queue.push(...selected.filter((k) => k.exclusive));
    await worker();
    for (const k of selected) console.log(results.get(k.id)!.join('\n'));
  } finally {
    await clusters.stop();
  }
  console.log(`differential: ${selected.length} cases: ${counts.PASS} passed, ${counts.EXPECTED} expected differences, ${counts.FAIL} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return counts.FAIL ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`differential: ${(err as Error).stack ?? String(err)}`);
      process.exit(2);
    },
  );
}
