/**
 * symlink (swift/common/middleware/symlink.py): an object PUT with `X-Symlink-Target`
 * (`<container>/<object>`, optionally `X-Symlink-Target-Account` and, for a static link,
 * `X-Symlink-Target-Etag`) stores a zero-byte object whose target lives in object sysmeta
 * (`x-object-sysmeta-symlink-target[-account|-etag|-bytes]`), which only this middleware can
 * write: the gatekeeper strips the same headers when a client sends them. GET/HEAD follow the
 * link (at most `symloop_max` hops, default 2, else 409) as a normal, authorized read of the
 * target and say where they ended up in Content-Location; `?symlink=get` returns the link
 * itself with its X-Symlink-* headers; POST to a link answers 307 to the target; container
 * listings show `symlink_path` (and `symlink_etag`/`symlink_bytes`) instead of the hash params.
 * Subrequests go through the rest of the pipeline (src/proxy/subrequest.ts), as Swift's do.
 */
import type { Readable } from 'node:stream';
import type { MiddlewareHandler } from 'hono';
import type { ParsedPath, ProxyContext, ProxyEnv } from '../proxy/context';
import type { Section } from '../proxy/config';
import { rewriteJsonListing } from './listing-rewrite';
import { defineFilter } from '../proxy/filter';
import type { ProxyState } from '../proxy/state';
import { RequestHeaders } from '../proxy/request-headers';
import { allowsReservedNames, parseProxyPath, rawPathOf, rawQueryOf } from '../proxy/request-target';
import { captureIdentity, discard, type Identity, type Subrequest } from '../proxy/subrequest';
import { exceptionResponse, replaceResponse, swiftResponse } from '../proxy/response';
import { splitPath, InvalidPathError } from '../common/path';
import { asByteString, bytesOf, type ByteString } from '../compat/bytes';
import { HttpException } from '../compat/http-exception';
import { swobParams } from '../compat/query';
import { quoteBytes, unquoteBytes } from '../compat/quote';
import { pyRepr } from '../compat/repr';
import { configTrue } from '../compat/truthy';

/** Reads and discards a response body (Swift's drain_and_close). */
export async function drain(res: Response): Promise<void> {
  if (res.body) await res.arrayBuffer().catch(() => undefined);
}

/** The parsed path of a request, or undefined when it is not a valid /v1 path. */
export function requestPath(c: ProxyContext, state: ProxyState): ParsedPath | undefined {
  const parsed = parseProxyPath(rawPathOf(c), state.constraints.valid_api_versions, allowsReservedNames(c.get('headers')));
  return parsed instanceof Response ? undefined : parsed;
}

/** A response with some headers changed (undefined removes), body and status kept. */
export function withHeaders(res: Response, changes: Record<string, string | undefined>): Response {
  const h = new Headers(res.headers);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) h.delete(k);
    else h.set(k, v);
  }
  return new Response(res.body, { status: res.status, headers: h });
}

// ---------------------------------------------------------------------------------------------
// symlink

const TGT_OBJ = 'x-symlink-target';
const TGT_ACCT = 'x-symlink-target-account';
const TGT_ETAG = 'x-symlink-target-etag';
const TGT_BYTES = 'x-symlink-target-bytes';
const SYS_OBJ = 'x-object-sysmeta-symlink-target';
const SYS_ACCT = 'x-object-sysmeta-symlink-target-account';
const SYS_ETAG = 'x-object-sysmeta-symlink-target-etag';
const SYS_BYTES = 'x-object-sysmeta-symlink-target-bytes';
const SYMLOOP_EXTEND = 'x-object-sysmeta-symloop-extend';
const ALLOW_RESERVED_NAMES = 'x-object-sysmeta-allow-reserved-names';
const OVERRIDE_ETAG = 'x-object-sysmeta-container-update-override-etag';
const IGNORE_RANGE = 'x-backend-ignore-range-if-metadata-present';
const MD5_OF_EMPTY_STRING = 'd41d8cd98f00b204e9800998ecf8427e';
const PATH_FORM_ERROR = 'X-Symlink-Target header must be of the form <container name>/<object name>';

/** An error answer raised from deep inside the link walk, as Swift raises an HTTPException. */
const plain = (status: number, body: string, headers: Record<string, string> = {}) => new HttpException(status, body, headers, 'text/plain');

function normalizeEtag(tag: string | undefined): string | undefined {
  if (tag && tag.length > 1 && tag.startsWith('"') && tag.endsWith('"')) return tag.slice(1, -1);
  return tag;
}

/** cgi.parse_header: the main value and its `; key=value` params (lower-case keys, unquoted). */
function parseHeader(line: string): [string, [string, string][]] {
  const parts: string[] = [];
  let rest = ';' + line;
  while (rest.startsWith(';')) {
    rest = rest.slice(1);
    let end = rest.indexOf(';');
    while (end > 0 && ((rest.slice(0, end).split('"').length - 1 - (rest.slice(0, end).split('\\"').length - 1)) % 2 === 1)) {
      end = rest.indexOf(';', end + 1);
    }
    if (end < 0) end = rest.length;
    parts.push(rest.slice(0, end).trim());
    rest = rest.slice(end);
  }
  const key = parts.shift() ?? '';
  const params: [string, string][] = [];
  for (const p of parts) {
    const i = p.indexOf('=');
    if (i < 0) continue;
    const name = p.slice(0, i).trim().toLowerCase();
    let value = p.slice(i + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\\\/g, '\\').replace(/\\"/g, '"');
    params.push([name, value]);
  }
  return [key, params];
}

export interface SymlinkOptions {
  symloopMax: number;
}

export function symlinkOptions(conf: Section): SymlinkOptions {
  const n = Number.parseInt(conf.symloop_max ?? '', 10);
  return { symloopMax: Number.isFinite(n) && n >= 1 ? n : 2 };
}

export function symlink(options: SymlinkOptions, state: ProxyState, app: Subrequest): MiddlewareHandler<ProxyEnv> {
  const { symloopMax } = options;

  /**
   * Swift's _recursive_get_head: while the answer is a link (a dynamic one only when
   * `followSoftlinks`), fetch its target with the same method and headers as a normal,
   * authorized subrequest. A static link's etag must match what it finally reaches.
   */
  async function walk(
    c: ProxyContext,
    first: Response,
    firstAccount: ByteString,
    version: string,
    method: string,
    headers: readonly [string, string][],
    identity: Identity,
    targetEtagIn: string | undefined,
    followSoftlinksFirst: boolean,
    lastTargetIn: string | undefined,
  ): Promise<{ res: Response; lastTarget: string | undefined }> {
    let res = first;
    let account = firstAccount; // the current hop's account
    let loops = 0;
    let lastTarget = lastTargetIn;
    let targetEtag = targetEtagIn;
    let followSoftlinks = followSoftlinksFirst;
    for (;;) {
      const symTarget = res.headers.get(SYS_OBJ) ?? undefined;
      const respEtag = res.headers.get(SYS_ETAG) ?? undefined;
      if (symTarget && (respEtag || followSoftlinks)) {
        const foundEtag = respEtag || (res.headers.get('etag') ?? undefined);
        const resHeaders = res.headers;
        await drain(res);
        if (targetEtag && targetEtag !== foundEtag) {
          throw plain(409, 'X-Symlink-Target-Etag headers do not match', lastTarget !== undefined ? { 'content-location': lastTarget } : {});
        }
        if (loops >= symloopMax) throw plain(409, `Too many levels of symbolic links, maximum allowed is ${symloopMax}`);
        const acct = resHeaders.get(SYS_ACCT) || quoteBytes(account);
        const targetPath = `/${version}/${acct}/${symTarget.replace(/^\/+/, '')}`;
        lastTarget = targetPath;
        const reserved = !!resHeaders.get(ALLOW_RESERVED_NAMES);
        const sub = new RequestHeaders(headers.map(([k, v]) => [k, v]));
        sub.delete('x-backend-storage-policy-index');
        // A link allowed to point at reserved names was authorized by whoever made it.
        if (reserved) sub.set('x-backend-allow-reserved-names', 'true');
        if (!configTrue(resHeaders.get(SYMLOOP_EXTEND))) loops += 1;
        targetEtag = respEtag;
        followSoftlinks = true;
        account = unquoteBytes(asByteString(acct));
        res = await app(identity, { method, path: targetPath, headers: sub, preAuthenticated: reserved });
        continue;
      }
      const finalEtag = res.headers.get('etag') ?? undefined;
      if (finalEtag && targetEtag && targetEtag !== finalEtag) {
        discard(res.body);
        throw plain(409, `Object Etag ${pyRepr(finalEtag)} does not match X-Symlink-Target-Etag header ${pyRepr(targetEtag)}`, lastTarget !== undefined ? { 'content-location': lastTarget } : {});
      }
      return { res, lastTarget };
    }
  }

  /** Swift's _validate_and_prep_request_headers: returns the target's path (a byte string) and etag. */
  function validatePut(c: ProxyContext, path: ParsedPath): { targetPath: ByteString; etag: string | undefined } {
    const headers = c.get('headers');
    const raw = headers.get(TGT_OBJ)!;
    if (unquoteBytes(raw).startsWith('/')) throw plain(412, PATH_FORM_ERROR);
    let container: ByteString;
    let obj: ByteString;
    try {
      [container, obj] = splitPath(asByteString('/' + unquoteBytes(raw)), 2, 2, true) as [ByteString, ByteString];
    } catch (err) {
      if (!(err instanceof InvalidPathError)) throw err;
      throw new HttpException(412, PATH_FORM_ERROR);
    }
    headers.set(TGT_OBJ, quoteBytes(asByteString(`${container}/${obj}`)));
    const reqAccount = bytesOf(path.account);
    let account = reqAccount;
    const rawAccount = headers.get(TGT_ACCT);
    if (rawAccount !== undefined) {
      const a = unquoteBytes(rawAccount);
      if (!a) throw new HttpException(412, 'Account name cannot be empty');
      if (a.includes('/')) throw new HttpException(412, 'Account name cannot contain slashes');
      headers.set(TGT_ACCT, quoteBytes(a));
      account = a;
    }
    if (account === reqAccount && container === bytesOf(path.container!) && obj === bytesOf(path.object!)) {
      throw plain(400, 'Symlink cannot target itself');
    }
    const etag = normalizeEtag(headers.get(TGT_ETAG));
    if (etag && /[;"\\]/.test(etag)) throw plain(400, 'Bad X-Symlink-Target-Etag format');
    if (!etag && !headers.get('content-type')) headers.set('content-type', 'application/symlink');
    return { targetPath: asByteString(`/v1/${account}/${container}/${obj}`), etag };
  }

  /** True when the PUT has no body (Swift reads one byte when the length is not given). */
  async function bodyIsEmpty(c: ProxyContext): Promise<boolean> {
    const cl = c.get('headers').get('content-length');
    if (cl !== undefined && c.get('headers').get('transfer-encoding') === undefined) return Number(cl) === 0;
    const incoming = c.env?.incoming as Readable | undefined;
    if (!incoming) return !c.req.raw.body;
    if (incoming.readableEnded) return true;
    const chunk = await new Promise<Buffer | null>((resolve, reject) => {
      const done = () => {
        incoming.off('readable', onReadable);
        incoming.off('end', onEnd);
        incoming.off('error', onError);
      };
      const onReadable = () => {
        const ch = incoming.read() as Buffer | null;
        if (ch !== null && ch.length > 0) {
          done();
          resolve(ch);
        }
      };
      const onEnd = () => {
        done();
        resolve(null);
      };
      const onError = (err: unknown) => {
        done();
        reject(err);
      };
      incoming.on('readable', onReadable);
      incoming.once('end', onEnd);
      incoming.once('error', onError);
    });
    if (chunk) incoming.unshift(chunk);
    return chunk === null;
  }

  async function handlePut(c: ProxyContext, path: ParsedPath, next: () => Promise<void>, identity: Identity): Promise<void> {
    if (!(await bodyIsEmpty(c))) throw plain(400, 'Symlink requests require a zero byte body');
    const headers = c.get('headers');
    const { targetPath, etag } = validatePut(c, path);
    if (etag) {
      // Static link: the target must exist now, with that etag (dynamic links are not followed).
      const quoted = quoteBytes(targetPath);
      const head = await app(identity, { method: 'HEAD', path: quoted });
      const { res, lastTarget } = await walk(c, head, splitPath(targetPath, 2, 3, true)[1]!, 'v1', 'HEAD', [], identity, etag, false, targetPath);
      await drain(res);
      if (res.status === 404) throw plain(409, 'X-Symlink-Target does not exist', { 'content-location': lastTarget ?? targetPath });
      if (res.status < 200 || res.status >= 300) throw new HttpException(res.status);
      const override = res.headers.get(OVERRIDE_ETAG);
      if (override !== null && !headers.has(OVERRIDE_ETAG)) {
        const semi = override.indexOf(';');
        headers.set(OVERRIDE_ETAG, semi < 0 ? MD5_OF_EMPTY_STRING : MD5_OF_EMPTY_STRING + override.slice(semi));
      }
      const sloEtag = res.headers.get('x-object-sysmeta-slo-etag');
      if (sloEtag !== null && !headers.has(OVERRIDE_ETAG)) headers.set(OVERRIDE_ETAG, `${MD5_OF_EMPTY_STRING}; slo_etag=${sloEtag}`);
      headers.set(SYS_BYTES, res.headers.get('x-object-sysmeta-slo-size') || (res.headers.get('content-length') ?? '0'));
      headers.set(SYS_ETAG, etag);
      if (!headers.get('content-type')) headers.set('content-type', res.headers.get('content-type') ?? 'application/octet-stream');
    }
    headers.delete(TGT_ETAG);
    for (const [user, sys] of [
      [TGT_OBJ, SYS_OBJ],
      [TGT_ACCT, SYS_ACCT],
    ] as const) {
      const v = headers.get(user);
      if (v !== undefined) {
        headers.delete(user);
        headers.set(sys, v);
      }
    }
    // The container listing learns that this is a link through the etag override (a symlink
    // is always zero bytes, so the real etag is the empty string's).
    const override = [headers.get(OVERRIDE_ETAG) ?? MD5_OF_EMPTY_STRING, `symlink_target=${headers.get(SYS_OBJ)}`];
    if (headers.has(SYS_ACCT)) override.push(`symlink_target_account=${headers.get(SYS_ACCT)}`);
    if (headers.has(SYS_ETAG)) override.push(`symlink_target_etag=${headers.get(SYS_ETAG)}`, `symlink_target_bytes=${headers.get(SYS_BYTES)}`);
    headers.set(OVERRIDE_ETAG, override.join('; '));
    await next();
  }

  async function handlePost(c: ProxyContext, path: ParsedPath, next: () => Promise<void>): Promise<void> {
    if (c.get('headers').has(TGT_OBJ)) throw plain(400, 'A PUT request is required to set a symlink target');
    await next();
    const res = c.res;
    if (res.status < 200 || res.status >= 300) return;
    const target = res.headers.get(SYS_OBJ);
    if (!target) return;
    const acct = res.headers.get(SYS_ACCT) || quoteBytes(bytesOf(path.account));
    const headers: Record<string, string> = { location: `/${path.version}/${acct}/${target.replace(/^\/+/, '')}` };
    const etag = res.headers.get(SYS_ETAG);
    if (etag) headers[TGT_ETAG] = etag;
    // Swift keeps the link's object sysmeta on the 307 (object versioning reads it; the
    // gatekeeper strips it for clients).
    res.headers.forEach((v, k) => {
      if (k.startsWith('x-object-sysmeta-')) headers[k] = v;
    });
    await drain(res);
    replaceResponse(c, swiftResponse(307, { headers, body: 'The requested POST was applied to a symlink. POST directly to the target to apply requested metadata.' }));
  }

  /** Listing entries: `hash; symlink_target=...` becomes the hash plus symlink_path etc. */
  async function handleContainer(c: ProxyContext, path: ParsedPath, next: () => Promise<void>): Promise<void> {
    await next();
    if (c.req.method !== 'GET') return;
    const quotedAccount = quoteBytes(bytesOf(path.account));
    await rewriteJsonListing(c, (item) => {
      if (typeof item.hash !== 'string') return false;
      const before = item.hash;
      // Most entries are plain objects: parse_header would give them back as they are.
      if (!before.includes(';') && before === before.trim()) return false;
      const [hash, params] = parseHeader(item.hash);
      let h = hash;
      let account = quotedAccount;
      let target: string | undefined;
      for (const [k, v] of params) {
        if (k === 'symlink_target') target = v;
        else if (k === 'symlink_target_account') account = v;
        else if (k === 'symlink_target_etag') item.symlink_etag = v;
        else if (k === 'symlink_target_bytes') item.symlink_bytes = Number.parseInt(v, 10);
        else h += `; ${k}=${v}`;
      }
      item.hash = h;
      // os.path.join('/', version, account, target)
      if (target) item.symlink_path = target.startsWith('/') ? target : `/${path.version}/${account}/${target}`;
      return h !== before || target !== undefined || 'symlink_etag' in item || 'symlink_bytes' in item;
    }, { onlyHashParams: true });
  }

  return async (c, next) => {
    const path = requestPath(c, state);
    if (!path || !path.container) return next();
    const method = c.req.method;
    // The caller's identity as it was on entry: the proxy drops authorize once the request
    // passed, but the link's target is a different object and is authorized on its own.
    const identity = captureIdentity(c);
    try {
      if (!path.object) {
        await handleContainer(c, path, next);
        return;
      }
      if (method === 'GET' || method === 'HEAD') {
        if (swobParams(rawQueryOf(c)).get('symlink') === 'get') {
          await next();
          const changes: Record<string, string | undefined> = {};
          for (const [user, sys] of [
            [TGT_OBJ, SYS_OBJ],
            [TGT_ACCT, SYS_ACCT],
            [TGT_ETAG, SYS_ETAG],
            [TGT_BYTES, SYS_BYTES],
          ] as const) {
            const v = c.res.headers.get(sys);
            if (v !== null) {
              changes[user] = v;
              changes[sys] = undefined;
            }
          }
          if (Object.keys(changes).length > 0) replaceResponse(c, withHeaders(c.res, changes));
          return;
        }
        // A range applies to the target, so the link itself must come back whole.
        const headers = c.get('headers');
        const prior = headers.get(IGNORE_RANGE);
        headers.set(IGNORE_RANGE, prior ? `${prior},${SYS_OBJ}` : SYS_OBJ);
        const snapshot = headers.entries().map(([k, v]) => [k, v] as [string, string]);
        await next();
        if (!c.res.headers.get(SYS_OBJ)) return;
        const { res, lastTarget } = await walk(c, c.res, bytesOf(path.account), path.version, method, snapshot, identity, undefined, true, undefined);
        // Content-Location is the quoted target as stored, so a %2F in it stays as it is.
        replaceResponse(c, lastTarget !== undefined ? withHeaders(res, { 'content-location': lastTarget }) : res);
        return;
      }
      if (method === 'PUT' && c.get('headers').has(TGT_OBJ)) {
        await handlePut(c, path, next, identity);
        return;
      }
      if (method === 'POST') {
        await handlePost(c, path, next);
        return;
      }
      await next();
    } catch (err) {
      if (!(err instanceof HttpException)) throw err;
      // Error answers to a HEAD carry no body; the others (a PUT's too) do.
      replaceResponse(c, exceptionResponse(err, method));
    }
  };
}

export const symlinkFilter = defineFilter<SymlinkOptions>({
  name: 'symlink',
  options: symlinkOptions,
  // register_swift_info('symlink', symloop_max=..., static_links=True)
  info: (options) => ({ symlink: { symloop_max: options.symloopMax, static_links: true } }),
  create: (options, ctx) => symlink(options, ctx.state, ctx.app),
});
