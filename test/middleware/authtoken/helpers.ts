/**
 * Test-only pieces for authtoken: an echo filter placed right after it (it answers with the
 * headers it sees and the `keystone` variable, as JSON; `X-Echo-Status` picks its status), the
 * proxy config that puts both in a pipeline, and a logger whose lines a test can read.
 */
import { proxyConf } from '../../helpers/proxy-conf';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { defineFilter, registerFilter } from '../../../src/proxy/filter';
import type { KeystoneAuthResult } from '../../../src/proxy/context';
import { call, type Resp } from '../../proxy/helpers';

export interface Echo {
  headers: Record<string, string>;
  keystone: KeystoneAuthResult | undefined | null;
}

registerFilter(
  defineFilter<Record<string, never>>({
    name: 'authtoken_echo',
    options: () => ({}),
    create: () => async (c) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of c.get('headers').entries()) headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
      const status = Number(c.get('headers').get('x-echo-status') ?? 200);
      const body = JSON.stringify({ headers, keystone: c.get('keystone') ?? null });
      return new Response(c.req.method === 'HEAD' ? null : body, { status, headers: { 'content-type': 'application/json' } });
    },
  }),
);

/** A proxy config: authtoken (with `options`) then the echo filter, as a Swift pipeline would have them. */
export function authtokenProxyConf(options: Record<string, string | number | boolean>, opts: { use?: string; withCache?: boolean } = {}): string {
  const cache = opts.withCache === false ? '' : 'cache ';
  const lines = Object.entries(options).map(([k, v]) => `${k} = ${String(v)}`);
  return proxyConf({
    pipeline: `catch_errors gatekeeper healthcheck proxy-logging ${cache}listing_formats authtoken echo proxy-logging`.split(' '),
    sections: {
      authtoken: `${opts.use ?? 'paste.filter_factory = keystonemiddleware.auth_token:filter_factory'}\n${lines.join('\n')}`,
      echo: 'use = egg:swift#authtoken_echo',
    },
  });
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** A pino logger that keeps every line (as parsed JSON) and its raw text. */
export function capturingLogger(): { logger: Logger; lines: LogLine[]; raw: () => string } {
  const lines: LogLine[] = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString('utf8');
      raw += text;
      for (const line of text.split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, raw: () => raw };
}

export async function echo(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Resp & { echo?: Echo }> {
  const res = await call(base, method, path, headers);
  let parsed: Echo | undefined;
  if (res.status === 200 && res.headers['content-type'] === 'application/json' && res.text) parsed = JSON.parse(res.text) as Echo;
  return { ...res, echo: parsed };
}

/** The spoofed identity headers a client might send, with values no real token carries. */
export const SPOOFED: Record<string, string> = {
  'X-Identity-Status': 'Confirmed',
  'X-Service-Identity-Status': 'Confirmed',
  'X-Roles': 'admin,ResellerAdmin',
  'X-Role': 'admin',
  'X-User-Id': 'spoofed-user-id',
  'X-User-Name': 'spoofed-user',
  'X-User': 'spoofed-user',
  'X-User-Domain-Id': 'spoofed-domain',
  'X-User-Domain-Name': 'spoofed-domain',
  'X-Project-Id': 'spoofed-project',
  'X-Project-Name': 'spoofed-project',
  'X-Project-Domain-Id': 'spoofed-domain',
  'X-Project-Domain-Name': 'spoofed-domain',
  'X-Domain-Id': 'spoofed-domain',
  'X-Domain-Name': 'spoofed-domain',
  'X-Tenant-Id': 'spoofed-project',
  'X-Tenant-Name': 'spoofed-project',
  'X-Tenant': 'spoofed-project',
  'X-Service-Roles': 'service,spoofed-role',
  'X-Service-User-Id': 'spoofed-user-id',
  'X-Service-User-Name': 'spoofed-user',
  'X-Service-Project-Id': 'spoofed-project',
  'X-Service-Project-Name': 'spoofed-project',
  'X-Service-Domain-Id': 'spoofed-domain',
  'X-Service-User-Domain-Id': 'spoofed-domain',
  'X-Service-Project-Domain-Id': 'spoofed-domain',
  'X-Service-Catalog': '[{"spoofed": true}]',
  'X-Is-Admin-Project': 'True',
  'OpenStack-System-Scope': 'all',
  X_Roles: 'admin-underscore',
  'X_Identity_Status': 'Confirmed',
};

/** The names and values of SPOOFED that reached downstream (none should). */
export function spoofedSeen(e: Echo): string[] {
  const out: string[] = [];
  const json = JSON.stringify(e);
  if (json.includes('spoofed')) out.push('a "spoofed" value');
  if (json.includes('admin-underscore')) out.push('X_Roles');
  for (const [k, v] of Object.entries(e.headers)) if (k.includes('_')) out.push(`${k}: ${v}`);
  return out;
}
