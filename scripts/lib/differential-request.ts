/**
 * A case's step as the bytes one side is sent: the Host of that side, the TempAuth token of the
 * step's user, and a Content-Length unless the step frames its body itself (or sends none).
 */
import type { SideContext, Step, StepSpec } from './differential-cases';
import type { WireRequest } from './differential-http';

export function wireRequest(spec: StepSpec, ctx: SideContext): WireRequest {
  const s: Step = typeof spec === 'function' ? spec(ctx) : spec;
  const body = s.body === undefined ? undefined : Buffer.isBuffer(s.body) ? s.body : Buffer.from(s.body, 'latin1');
  const headers: Array<[string, string]> = [];
  if (!s.noHost && s.version !== 'HTTP/1.0') headers.push(['Host', `127.0.0.1:${ctx.port}`]);
  const as = s.as === undefined ? 'test:tester' : s.as;
  if (as) headers.push(['X-Auth-Token', ctx.token(as)]);
  headers.push(...(s.headers ?? []));
  const has = (n: string) => headers.some(([k]) => k.toLowerCase() === n);
  if (s.length !== 'none' && !has('content-length') && !has('transfer-encoding') && (body?.length || ['PUT', 'POST'].includes(s.method))) {
    headers.push(['Content-Length', String(body?.length ?? 0)]);
  }
  return { method: s.method, target: s.target, headers, body, version: s.version };
}

