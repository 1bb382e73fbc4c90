/**
 * How the differential harness compares one answer of Swift with sluice's to the same request:
 * status code and reason phrase; header names with their case (order aside); header values and
 * bodies after the volatile parts are replaced by placeholders (transaction ids, dates,
 * timestamps, tokens, the proxies' ports); JSON bodies parsed, so key order does not count.
 * An Etag or Content-Length is only compared when the bodies are byte-identical or when they
 * are not equal even after normalising (a listing's Etag is the MD5 of a body that holds dates).
 */
export interface Answer {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  body: Buffer;
  error?: string;
}

export interface Difference {
  /** `status`, `reason`, `header-names`, `header:<lower-case name>`, `body`, `error`. */
  aspect: string;
  swift: string;
  sluice: string;
}

export interface NormaliseContext {
  /** The proxies' ports (both sides'), replaced by `<port>` wherever they appear. */
  ports: number[];
}

/** Headers whose whole value is volatile: only their presence (and name case) is compared. */
const VOLATILE_HEADERS = new Set(['date', 'last-modified', 'x-timestamp', 'x-put-timestamp', 'x-backend-timestamp', 'x-auth-token-expires', 'expires']);

/** Headers that follow from the body: compared unless the bodies differ in placeholders only. */
const BODY_DERIVED_HEADERS = new Set(['etag', 'content-length']);

const PATTERNS: Array<[RegExp, string]> = [
  // Transaction ids (catch_errors: tx + 21 hex, -, 10 hex of the time; X-Trans-Id-Extra kept).
  [/tx[0-9a-f]{21}-[0-9a-f]{10}/g, '<txid>'],
  // TempAuth tokens.
  [/AUTH_tk[0-9a-f]{32}/g, '<token>'],
  // HTTP dates.
  [/(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT/g, '<http-date>'],
  // Listing and staticweb dates (ISO with or without fraction, or with a space).
  [/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?/g, '<iso-date>'],
  // Swift timestamps (X-Timestamp form, with an offset), e.g. in versions' names.
  [/\d{10}\.\d{5}(_[0-9a-f]{16})?/g, '<timestamp>'],
];

export function normaliseText(text: string, ctx: NormaliseContext): string {
  let out = text;
  for (const port of ctx.ports) out = out.replace(new RegExp(`127\\.0\\.0\\.1:${port}(?!\\d)`, 'g'), '127.0.0.1:<port>');
  for (const [re, placeholder] of PATTERNS) out = out.replace(re, placeholder);
  return out;
}

/** JSON with placeholders in strings and keys sorted, or undefined when the body is not JSON. */
function normaliseJson(text: string, ctx: NormaliseContext): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return normaliseText(v, ctx);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      // A listed SLO manifest's hash is the MD5 of its stored JSON, which holds segment dates.
      const manifestHash = 'slo_etag' in o && typeof o.hash === 'string' && /^[0-9a-f]{32}$/.test(o.hash);
      return Object.fromEntries(Object.keys(o).sort().map((k) => [normaliseText(k, ctx), manifestHash && k === 'hash' ? '<manifest-md5>' : walk(o[k])]));
    }
    return v;
  };
  return JSON.stringify(walk(parsed), null, 1);
}

export function contentType(headers: Array<[string, string]>): string {
  return headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
}

/** The body as compared: JSON canonicalised, any other text with placeholders; bytes kept as latin-1. */
export function normaliseBody(body: Buffer, headers: Array<[string, string]>, ctx: NormaliseContext): string {
  const boundary = boundaryOf(headers);
  const text = boundary ? body.toString('latin1').split(`--${boundary}`).join('--<boundary>') : body.toString('latin1');
  if (/json/i.test(contentType(headers)) || /^\s*[[{]/.test(text)) {
    const json = normaliseJson(body.toString('utf8'), ctx);
    if (json !== undefined) return json;
  }
  return normaliseText(text, ctx);
}

function valuesByName(headers: Array<[string, string]>): Map<string, string> {
  const m = new Map<string, string[]>();
  for (const [k, v] of headers) {
    const key = k.toLowerCase();
    m.set(key, [...(m.get(key) ?? []), v]);
  }
  return new Map([...m].map(([k, vs]) => [k, vs.sort().join('\n')]));
}

/**
 * Account usage as the account server reports it: Swift's object counts and bytes arrive through
 * the container updater (not run here), sluice's at once, and the cases share AUTH_test
 * concurrently, so only presence and name case are compared.
 */
const ACCOUNT_USAGE = /^x-account-(storage-policy-[^-]+(-[^-]+)*-)?(object-count|bytes-used|container-count)$/;

/** The multipart/byteranges boundary (random per answer) of a Content-Type. */
export function boundaryOf(headers: Array<[string, string]>): string | undefined {
  return /boundary=("?)([^";]+)\1/i.exec(contentType(headers))?.[2];
}

export function normaliseHeaderValue(name: string, value: string, ctx: NormaliseContext): string {
  if (VOLATILE_HEADERS.has(name) || ACCOUNT_USAGE.test(name)) return '<volatile>';
  // Python sets (Swift's allowed methods) have no stable order.
  if (name === 'allow') return value.split(',').map((m) => m.trim()).sort().join(', ');
  // The MD5 of a stored SLO manifest, whose JSON holds each segment's last_modified.
  if (name === 'x-manifest-etag' && /^[0-9a-f]{32}$/.test(value)) return '<manifest-md5>';
  return normaliseText(value, ctx).replace(/boundary=[0-9a-f]{32}/, 'boundary=<boundary>');
}

/**
 * `storedManifest`: the request asked for an SLO manifest itself (`?multipart-manifest=get`),
 * whose Etag is the MD5 of stored JSON that holds each segment's last_modified.
 */
export function compareAnswers(swift: Answer, sluice: Answer, ctx: NormaliseContext, opts: { storedManifest?: boolean } = {}): Difference[] {
  const diffs: Difference[] = [];
  if ((swift.error ?? '') !== (sluice.error ?? '') && (swift.status === 0 || sluice.status === 0)) diffs.push({ aspect: 'error', swift: swift.error ?? '', sluice: sluice.error ?? '' });
  if (swift.status !== sluice.status) diffs.push({ aspect: 'status', swift: String(swift.status), sluice: String(sluice.status) });
  else if (swift.reason !== sluice.reason) diffs.push({ aspect: 'reason', swift: swift.reason, sluice: sluice.reason });

  const names = (a: Answer) => a.headers.map(([k]) => k).sort();
  const swiftNames = names(swift);
  const sluiceNames = names(sluice);
  if (swiftNames.join('\n') !== sluiceNames.join('\n')) {
    const only = (a: string[], b: string[]) => a.filter((n) => !b.includes(n));
    diffs.push({ aspect: 'header-names', swift: only(swiftNames, sluiceNames).join(', '), sluice: only(sluiceNames, swiftNames).join(', ') });
  }

  const swiftBody = normaliseBody(swift.body, swift.headers, ctx);
  const sluiceBody = normaliseBody(sluice.body, sluice.headers, ctx);
  const bodiesEqual = swiftBody === sluiceBody;
  // Equal only thanks to placeholders: the Etag and length of such bodies legitimately differ.
  const isManifest = (a: Answer) => a.headers.some(([k, v]) => k.toLowerCase() === 'x-static-large-object' && /^true$/i.test(v));
  const skipDerived = (bodiesEqual && !swift.body.equals(sluice.body)) || (!!opts.storedManifest && isManifest(swift) && isManifest(sluice));
  if (!bodiesEqual) diffs.push({ aspect: 'body', swift: swiftBody, sluice: sluiceBody });

  const swiftValues = valuesByName(swift.headers);
  const sluiceValues = valuesByName(sluice.headers);
  for (const [name, sv] of swiftValues) {
    const lv = sluiceValues.get(name);
    if (lv === undefined) continue; // reported under header-names
    if (skipDerived && BODY_DERIVED_HEADERS.has(name)) continue;
    const a = normaliseHeaderValue(name, sv, ctx);
    const b = normaliseHeaderValue(name, lv, ctx);
    if (a !== b) diffs.push({ aspect: `header:${name}`, swift: a, sluice: b });
  }
  return diffs;
}

/** A deliberate difference: a README "Differences from Swift" row, found by its first words. */
export interface KnownDifference {
  caseId: string;
  /** The step (0-based, setup steps not counted) the difference is in; any step when absent. */
  step?: number;
  /** Aspects (as in Difference) that may differ; anything else still fails. */
  aspects: string[];
  what: string;
  /** The first words of the README row (its Swift 2.30 column). */
  readmeRow: string;
}

export interface StepDifferences {
  /** `setup` for a setup step's status, or the step's index. */
  step: number | 'setup';
  diffs: Difference[];
}

export type Verdict = { kind: 'PASS' } | { kind: 'EXPECTED'; known: KnownDifference[] } | { kind: 'FAIL'; unexplained: Array<{ step: number | 'setup'; diff: Difference }> };

/** PASS when nothing differs; EXPECTED when every difference is a known one of this case; else FAIL. */
export function judge(caseId: string, steps: StepDifferences[], known: readonly KnownDifference[]): Verdict {
  const mine = known.filter((k) => k.caseId === caseId);
  const unexplained: Array<{ step: number | 'setup'; diff: Difference }> = [];
  const used = new Set<KnownDifference>();
  for (const s of steps) {
    for (const d of s.diffs) {
      const k = mine.find((m) => s.step !== 'setup' && (m.step === undefined || m.step === s.step) && m.aspects.includes(d.aspect));
      if (k) used.add(k);
      else unexplained.push({ step: s.step, diff: d });
    }
  }
  if (unexplained.length) return { kind: 'FAIL', unexplained };
  if (used.size) return { kind: 'EXPECTED', known: [...used] };
  return { kind: 'PASS' };
}
