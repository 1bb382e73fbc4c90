/**
 * Replays the recorded Swift conformance scenarios (test/conformance/recorded, a copy of
 * ../shared/conformance that recorded-copy.test.ts keeps identical; format in its README)
 * against an endpoint: placeholders substituted, requests sent byte for byte on a new
 * connection each, responses compared on status, listed headers, body and normalised JSON.
 */
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Expect {
  status: number;
  headers?: Record<string, string | null | { match: string }>;
  body?: string;
  json?: unknown;
}

export interface Step {
  note?: string;
  as: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  expect: Expect;
}

export interface Scenario {
  id: string;
  title: string;
  quirk?: boolean;
  steps: Step[];
}

export interface ScenarioFile {
  category: string;
  title: string;
  scenarios: Scenario[];
}

/** Users of the recorded cluster (conformance README). */
export const USERS: Record<string, string> = {
  'admin:admin': 'admin',
  'test:tester': 'testing',
  'test:tester2': 'testing2',
  'test:tester3': 'testing3',
  'test2:tester2': 'testing2',
  'test5:tester5': 'testing5',
};

export const INVALID_TOKEN = 'AUTH_tk00000000000000000000000000000000';

/** The repository's copy of the recorded scenarios (README.md and scenarios/*.json). */
export const RECORDED_DIR = join(dirname(fileURLToPath(import.meta.url)), 'recorded');

export function loadScenarioFiles(dir = join(RECORDED_DIR, 'scenarios')): ScenarioFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ScenarioFile);
}

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", "; values decoded as UTF-8. */
  headers: Record<string, string>;
  body: Buffer;
}

const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const utf8 = (s: string) => Buffer.from(s, 'latin1').toString('utf8');

/** One request on its own connection, path and header bytes exactly as given. */
export function send(endpoint: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  const url = new URL(endpoint);
  const bodyBuf = body === undefined ? undefined : Buffer.from(body, 'utf8');
  // A raw header list stops Node adding Host itself, so send it explicitly.
  const outHeaders: [string, string][] = [['Host', url.host]];
  for (const [k, v] of Object.entries(headers)) outHeaders.push([latin1(k), latin1(v)]);
  if (bodyBuf) outHeaders.push(['Content-Length', String(bodyBuf.length)]);
  else if (method === 'PUT' || method === 'POST') outHeaders.push(['Content-Length', '0']);
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method,
      path,
      agent: false,
      headers: outHeaders.flat(),
      maxHeaderSize: 1024 * 1024,
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout on ${method} ${path}`)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          const k = res.rawHeaders[i]!.toLowerCase();
          const v = utf8(res.rawHeaders[i + 1]!);
          h[k] = h[k] === undefined ? v : `${h[k]}, ${v}`;
        }
        resolvePromise({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks) });
      });
    });
    req.end(bodyBuf);
  });
}

export interface Identity {
  token: string;
  storageUrl: string;
}

export class Session {
  private readonly identities = new Map<string, Identity>();

  constructor(readonly endpoint: string) {}

  async login(user: string): Promise<Identity> {
    const cached = this.identities.get(user);
    if (cached) return cached;
    const key = USERS[user];
    if (key === undefined) throw new Error(`unknown user ${user}`);
    const res = await send(this.endpoint, 'GET', '/auth/v1.0', { 'X-Auth-User': user, 'X-Auth-Key': key });
    if (res.status !== 200 || !res.headers['x-auth-token'] || !res.headers['x-storage-url']) {
      throw new Error(`login of ${user} failed: ${res.status} ${res.body.toString()}`);
    }
    const id = { token: res.headers['x-auth-token'], storageUrl: res.headers['x-storage-url'] };
    this.identities.set(user, id);
    return id;
  }

  async placeholders(): Promise<Record<string, string>> {
    const acct = async (u: string) => (await this.login(u)).storageUrl.split('/').pop()!;
    const authTest = await acct('test:tester');
    const p = `sluiceconf${randomBytes(8)
      .toString('hex')
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 8)}`;
    const values: Record<string, string> = {
      '{AUTH_test}': authTest,
      '{AUTH_test2}': await acct('test2:tester2'),
      '{AUTH_test5}': await acct('test5:tester5'),
      '{SERVICE_test}': `SERVICE_${authTest.slice('AUTH_'.length)}`,
      '{p}': p,
      '{c}': `${p}-1`,
      '{c2}': `${p}-2`,
      '{c3}': `${p}-3`,
      '{c4}': `${p}-4`,
      '{newacct}': `AUTH_${p}`,
      '{endpoint}': this.endpoint.replace(/\/$/, ''),
    };
    for (const user of Object.keys(USERS)) values[`{token:${user}}`] = (await this.login(user)).token;
    return values;
  }
}

export function substitute(s: string, values: Record<string, string>): string {
  return s.replace(/\{[A-Za-z0-9_:]+\}/g, (m) => values[m] ?? m);
}

function substituteDeep(v: unknown, values: Record<string, string>): unknown {
  if (typeof v === 'string') return substitute(v, values);
  if (Array.isArray(v)) return v.map((x) => substituteDeep(x, values));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[substitute(k, values)] = substituteDeep(x, values);
    return out;
  }
  return v;
}

function normaliseListing(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((e) => {
    if (!e || typeof e !== 'object' || Array.isArray(e)) return e;
    const o = { ...(e as Record<string, unknown>) };
    delete o.last_modified;
    if ('count' in o && !('hash' in o)) {
      delete o.count;
      delete o.bytes;
    }
    return o;
  });
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as object).sort();
  const kb = Object.keys(b as object).sort();
  return deepEqual(ka, kb) && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Differences between a response and an expectation (empty when the step passes). */
export function compare(res: RawResponse, expect: Expect, values: Record<string, string>): string[] {
  const problems: string[] = [];
  if (res.status !== expect.status) problems.push(`status ${res.status}, expected ${expect.status}`);
  for (const [name, want] of Object.entries(expect.headers ?? {})) {
    const got = res.headers[name.toLowerCase()];
    if (want === null) {
      if (got !== undefined) problems.push(`header ${name} present (${JSON.stringify(got)}), expected absent`);
    } else if (typeof want === 'string') {
      const w = substitute(want, values);
      if (got !== w) problems.push(`header ${name} = ${JSON.stringify(got)}, expected ${JSON.stringify(w)}`);
    } else if (got === undefined || !new RegExp(substitute(want.match, values)).test(got)) {
      problems.push(`header ${name} = ${JSON.stringify(got)}, expected to match ${want.match}`);
    }
  }
  const ctype = res.headers['content-type'] ?? '';
  let text = res.body.toString('utf8');
  if (expect.body !== undefined) {
    if (/^(application|text)\/xml/.test(ctype)) text = text.replace(/<last_modified>[^<]*<\/last_modified>/g, '<last_modified></last_modified>');
    const w = substitute(expect.body, values);
    if (text !== w) problems.push(`body ${JSON.stringify(text.slice(0, 300))}, expected ${JSON.stringify(w.slice(0, 300))}`);
  }
  if (expect.json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body.toString('utf8'));
    } catch {
      problems.push(`body is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
      return problems;
    }
    const want = substituteDeep(expect.json, values);
    if (!deepEqual(normaliseListing(parsed), normaliseListing(want))) {
      problems.push(`json ${JSON.stringify(normaliseListing(parsed)).slice(0, 300)}, expected ${JSON.stringify(normaliseListing(want)).slice(0, 300)}`);
    }
  }
  return problems;
}

export interface StepResult {
  index: number;
  step: Step;
  problems: string[];
}

/** Runs every step of a scenario in order (even after a mismatch), then the safety-net cleanup. */
export async function runScenario(session: Session, scenario: Scenario, override?: (index: number, step: Step) => Expect | undefined): Promise<StepResult[]> {
  const values = await session.placeholders();
  const results: StepResult[] = [];
  const aclAccounts = new Set<string>();
  for (const [index, step] of scenario.steps.entries()) {
    const headers: Record<string, string> = {};
    if (step.as === 'invalid-token') headers['X-Auth-Token'] = INVALID_TOKEN;
    else if (step.as !== 'anonymous') headers['X-Auth-Token'] = (await session.login(step.as)).token;
    for (const [k, v] of Object.entries(step.headers ?? {})) headers[substitute(k, values)] = substitute(v, values);
    const path = substitute(step.path, values);
    if (Object.keys(headers).some((k) => k.toLowerCase() === 'x-account-access-control')) {
      const acct = path.split('?')[0]!.split('/')[2];
      if (acct) aclAccounts.add(decodeURIComponent(acct));
    }
    const expect = override?.(index, step) ?? step.expect;
    let problems: string[];
    try {
      const res = await send(session.endpoint, step.method, path, headers, step.body === undefined ? undefined : substitute(step.body, values));
      problems = compare(res, expect, values);
    } catch (err) {
      problems = [`request failed: ${(err as Error).message}`];
    }
    results.push({ index, step, problems });
  }
  await cleanup(session, values, aclAccounts);
  return results;
}

/** The README's safety net: remove `{p}` containers everywhere and clear ACLs the scenario set. */
async function cleanup(session: Session, values: Record<string, string>, aclAccounts: Set<string>): Promise<void> {
  const admin = (await session.login('admin:admin')).token;
  const h = { 'X-Auth-Token': admin };
  const p = values['{p}']!;
  for (const acct of [values['{AUTH_test}']!, values['{AUTH_test2}']!, values['{AUTH_test5}']!, values['{SERVICE_test}']!]) {
    const list = await send(session.endpoint, 'GET', `/v1/${acct}?format=json&prefix=${p}`, h);
    if (list.status !== 200) continue;
    for (const { name } of JSON.parse(list.body.toString()) as { name: string }[]) {
      const cpath = `/v1/${acct}/${encodeURIComponent(name)}`;
      for (;;) {
        const objs = await send(session.endpoint, 'GET', `${cpath}?format=json`, h);
        const names = objs.status === 200 ? (JSON.parse(objs.body.toString()) as { name: string }[]) : [];
        if (names.length === 0) break;
        for (const o of names) await send(session.endpoint, 'DELETE', `${cpath}/${encodeURIComponent(o.name).replace(/%2F/g, '/')}`, h);
      }
      await send(session.endpoint, 'DELETE', cpath, h);
    }
  }
  for (const acct of aclAccounts) await send(session.endpoint, 'POST', `/v1/${acct}`, { ...h, 'X-Account-Access-Control': '{}' });
}
