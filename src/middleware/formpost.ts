/**
 * formpost (swift/common/middleware/formpost.py, Swift 2.30): a browser's HTML form upload
 * (`POST` with `multipart/form-data` to `/v1/<account>/<container>[/<prefix>]`) becomes one
 * object PUT per file, signed like a tempurl.
 *
 * The form's fields, before its files: `redirect`, `max_file_size`, `max_file_count`,
 * `expires`, `signature` and optionally `x_delete_at`, `x_delete_after`, `content-type`,
 * `content-encoding` (fields after a file apply to later files only; a value is cut at 4096
 * bytes and loses trailing `\r`, `\n` and `-`). The signature is an HMAC (sha1, sha256 or sha512,
 * as `allowed_digests` permits; hex, or `<digest>:<base64>`) of
 * `PATH\nREDIRECT\nMAX_FILE_SIZE\nMAX_FILE_COUNT\nEXPIRES` with one of the account's or the
 * container's tempurl keys (temp-url-keys.ts). Each file is streamed to
 * `<path>[/]<filename>` as a pre-authorized PUT (the form's signature is the authorization),
 * capped at max_file_size, never held in memory; the first failure stops the upload.
 *
 * Answers, as Swift's: without `redirect`, the last PUT's status with its status line as a
 * text/plain body (plus `\r\nFormPost: <Message>` for "max file count exceeded" or "no files
 * to process"); with one, `303 See Other` to `redirect?status=<code>&message=<message>`; a
 * missing or wrong signature or an expired form is `401` "FormPost: Invalid Signature" /
 * "FormPost: Form Expired"; a malformed form, a field that must be an integer and is not, or a
 * file over max_file_size is `400` "FormPost: ...". `Access-Control-*` headers of the last PUT
 * are passed on.
 *
 * sluice differences from Swift 2.30.1: a form field that is not UTF-8 is 400 (Swift: 500);
 * part headers over 64 KiB are 400 (Swift reads them whole); control characters of `redirect`
 * are percent-encoded in Location (Swift would send them or fail).
 */
import { createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { statusLine } from '../common/http-status';
import { splitPath } from '../common/path';
import { asByteString, bytesOf } from '../compat/bytes';
import { quote, quoteBytes, unquoteUtf8 } from '../compat/quote';
import type { Section } from '../proxy/config';
import type { ProxyContext, ProxyEnv } from '../proxy/context';
import { defineFilter, type FilterContext } from '../proxy/filter';
import { rawPathOf } from '../proxy/request-target';
import { swiftResponse } from '../proxy/response';
import { discard } from '../proxy/subrequest';
import { MimeHeadersTooLong, MimeInvalid, MultipartReader, type MimePart } from './multipart-mime';
import { allowedDigests, tempUrlKeys, type AllowedDigests } from './temp-url-keys';
import { constantTimeEqual } from '../common/constant-time';
import { extractDigest } from './tempurl';

/** Swift's READ_CHUNK_SIZE and MAX_VALUE_LENGTH. */
export const READ_CHUNK_SIZE = 4096;
export const MAX_VALUE_LENGTH = 4096;
/** How much of a file each read hands to the PUT (Swift's proxy reads client_chunk_size, 64 KiB). */
const FILE_CHUNK_SIZE = 64 * 1024;

export interface FormPostOptions {
  digests: AllowedDigests;
}

/** A form Swift refuses with 400 "FormPost: <message>". */
class FormInvalid extends Error {}
/** A form Swift refuses with 401 "FormPost: <Message>". */
class FormUnauthorized extends Error {}

/** str.title() of an ASCII message. */
function title(s: string): string {
  return s.replace(/[A-Za-z]+/g, (w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase());
}

/** Python's int() of a form value, or undefined. */
function pyInt(v: string): number | undefined {
  const t = v.trim();
  return /^[+-]?\d+(_\d+)*$/.test(t) ? Number(t.replace(/_/g, '')) : undefined;
}

/** int(attributes.get(name) or 0), raising FormInvalid(message) when it is not an integer. */
function intField(attributes: Map<string, string>, name: string, message: string): number {
  const n = pyInt(attributes.get(name) || '0');
  if (n === undefined) throw new FormInvalid(message);
  return n;
}

const ATTRIBUTE = /^([\p{L}\p{N}_]+)=(".*?"|[^";]+)(; ?|$)/u;

/** parse_content_disposition (and Swift's use of it for Content-Type): the value and its attributes. */
export function parseContentDisposition(header: string): [string, Map<string, string>] {
  const attributes = new Map<string, string>();
  let value = header;
  let rest = '';
  const semi = header.indexOf(';');
  if (semi >= 0) {
    value = header.slice(0, semi).trim();
    rest = header.slice(semi + 1).trim();
  }
  for (let m = ATTRIBUTE.exec(rest); m; m = ATTRIBUTE.exec(rest)) {
    rest = rest.slice(m[0].length);
    attributes.set(m[1]!, m[2]!.replace(/^"+|"+$/g, ''));
  }
  return [value, attributes];
}

/** The client's body as it arrives (the Node request, or the stream of a subrequest). */
function formBody(c: ProxyContext): AsyncIterable<Uint8Array> {
  return c.env?.incoming ?? c.req.raw.body ?? Readable.from([]);
}

/** A part's body for the PUT, capped at max_file_size (Swift's _CappedFileLikeObject). */
function cappedBody(part: MimePart, max: number): { body: ReadableStream<Uint8Array>; exceeded: () => boolean } {
  let read = 0;
  let over = false;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        const chunk = await part.read(FILE_CHUNK_SIZE);
        read += chunk.length;
        if (read > max) {
          over = true;
          ctrl.error(new Error('max_file_size exceeded'));
        } else if (chunk.length === 0) ctrl.close();
        else ctrl.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { body, exceeded: () => over };
}

interface Outcome {
  status: number;
  message: string;
  headers: [string, string][];
}

export function formpost(options: FormPostOptions, ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  const { state } = ctx;
  const logger: Logger = ctx.logger.child({ log_route: 'formpost' });
  if (options.digests.unsupported.length) logger.warn(`The following digest algorithms are configured but not supported: ${options.digests.unsupported.join(', ')}`);
  if (options.digests.deprecated.length) logger.warn(`The following digest algorithms are allowed but deprecated: ${options.digests.deprecated.join(', ')}`);

  /** _get_keys: none unless the path names a container of a valid API version. */
  async function keys(c: ProxyContext, path: string): Promise<string[]> {
    const parts = path.split('/');
    if (parts.length < 4 || parts[0] || !state.constraints.valid_api_versions.includes(parts[1]!) || !parts[2] || !parts[3]) return [];
    return (await tempUrlKeys(state, c, parts[2], parts[3])).map(([key]) => key);
  }

  /** _perform_subrequest: checks the form's signature, then PUTs the file. */
  async function putFile(c: ProxyContext, path: string, attributes: Map<string, string>, part: MimePart, signingKeys: string[], agent: string): Promise<Response> {
    if (!signingKeys.length) throw new FormUnauthorized('invalid signature');
    const maxFileSize = intField(attributes, 'max_file_size', 'max_file_size not an integer');
    const headers: Record<string, string> = { 'transfer-encoding': 'chunked' };
    if (attributes.has('x_delete_at')) {
      const at = pyInt(attributes.get('x_delete_at')!);
      if (at === undefined) throw new FormInvalid('x_delete_at not an integer: Unix timestamp required.');
      headers['x-delete-at'] = String(at);
    }
    if (attributes.has('x_delete_after')) {
      const after = pyInt(attributes.get('x_delete_after')!);
      if (after === undefined) throw new FormInvalid('x_delete_after not an integer: Number of seconds required.');
      headers['x-delete-after'] = String(after);
    }
    if (attributes.has('content-type')) headers['content-type'] = bytesOf(attributes.get('content-type') || 'application/octet-stream');
    if (attributes.has('content-encoding')) headers['content-encoding'] = bytesOf(attributes.get('content-encoding')!);
    if (intField(attributes, 'expires', 'expired not an integer') < Date.now() / 1000) throw new FormUnauthorized('form expired');

    const field = (name: string, dflt: string) => attributes.get(name) || dflt;
    const hmacBody = Buffer.from([path, field('redirect', ''), field('max_file_size', '0'), field('max_file_count', '0'), field('expires', '0')].join('\n'), 'utf8');
    const extracted = extractDigest(attributes.get('signature') ?? '');
    if (!extracted || !options.digests.allowed.includes(extracted[0])) throw new FormUnauthorized('invalid signature');
    const [digest, signature] = extracted;
    let valid = false;
    for (const key of signingKeys) {
      if (constantTimeEqual(createHmac(digest, Buffer.from(key, 'utf8')).update(hmacBody).digest('hex'), signature)) valid = true;
    }
    if (!valid) throw new FormUnauthorized('invalid signature');

    let objectPath = path;
    if (!objectPath.endsWith('/') && objectPath.split('/').length - 1 < 4) objectPath += '/';
    objectPath += attributes.get('filename') || 'filename';
    const { body, exceeded } = cappedBody(part, maxFileSize);
    let res: Response | undefined;
    try {
      res = await ctx.app(c, { method: 'PUT', path: quoteBytes(bytesOf(objectPath)), headers, body, preAuthenticated: true, agent });
    } catch (err) {
      if (!exceeded()) throw err;
    }
    if (exceeded()) {
      if (res) discard(res.body);
      throw new FormInvalid('max_file_size exceeded');
    }
    // Swift reads the answer to its end and drops it.
    discard(res!.body);
    return res!;
  }

  /** _translate_form: every part in order; the outcome of the last PUT (or why there was none). */
  async function translate(c: ProxyContext, path: string, boundary: Buffer, agent: string): Promise<[Outcome, Map<string, string>]> {
    const signingKeys = await keys(c, path);
    const reader = new MultipartReader(formBody(c), boundary, READ_CHUNK_SIZE);
    const attributes = new Map<string, string>();
    let outcome: Outcome | undefined;
    let fileCount = 0;
    for (let part = await reader.next(); part; part = await reader.next()) {
      const hdrs = await part.headers();
      const [disposition, attrs] = parseContentDisposition(hdrs.get('content-disposition') ?? '');
      if (disposition === 'form-data' && attrs.get('filename')) {
        fileCount += 1;
        if (fileCount > intField(attributes, 'max_file_count', 'max_file_count not an integer')) {
          outcome = { status: 400, message: 'max file count exceeded', headers: [] };
          break;
        }
        const fileAttributes = new Map(attributes);
        fileAttributes.set('filename', attrs.get('filename')!);
        if (!attributes.has('content-type') && hdrs.has('content-type')) fileAttributes.set('content-type', hdrs.get('content-type') || 'application/octet-stream');
        if (!attributes.has('content-encoding') && hdrs.has('content-encoding')) fileAttributes.set('content-encoding', hdrs.get('content-encoding')!);
        const res = await putFile(c, path, fileAttributes, part, signingKeys, agent);
        outcome = { status: res.status, message: '', headers: [...res.headers.entries()] };
        if (res.status < 200 || res.status >= 300) break;
      } else {
        const chunks: Buffer[] = [];
        let left = MAX_VALUE_LENGTH;
        while (left > 0) {
          const chunk = await part.read(left);
          if (!chunk.length) break;
          left -= chunk.length;
          chunks.push(chunk);
        }
        // The rest of an over-long value is skipped by reader.next().
        const data = Buffer.concat(chunks);
        const text = data.toString('utf8');
        if (!Buffer.from(text, 'utf8').equals(data)) throw new FormInvalid('form values must be UTF-8');
        const name = attrs.get('name');
        if (name !== undefined) attributes.set(name.toLowerCase(), text.replace(/[\r\n-]+$/, ''));
      }
    }
    return [outcome ?? { status: 400, message: 'no files to process', headers: [] }, attributes];
  }

  /** The answer for an outcome: plain text, or a 303 to the form's redirect. */
  function answer(outcome: Outcome, redirect: string | undefined): Response {
    const headers = new Headers();
    for (const [k, v] of outcome.headers) if (k.toLowerCase().startsWith('access-control')) headers.append(k, v);
    if (!redirect) {
      let body = statusLine(outcome.status);
      if (outcome.message) body += `\r\nFormPost: ${title(outcome.message)}`;
      headers.set('content-type', 'text/plain');
      return swiftResponse(outcome.status, { headers: Object.fromEntries(headers), body });
    }
    let location = `${redirect}${redirect.includes('?') ? '&' : '?'}status=${quote(String(outcome.status))}&message=${quote(outcome.message)}`;
    const body = Buffer.from(`<html><body><p><a href="${location}">Click to continue...</a></p></body></html>`, 'utf8');
    // A header carries bytes: the URL's UTF-8, with control characters escaped.
    location = bytesOf(location).replace(/[\x00-\x1f\x7f]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    headers.set('location', location);
    headers.set('content-length', String(body.length));
    // Swift sends no Content-Type with this page (the HTTP layer adds its default one).
    return new Response(new Uint8Array(body), { status: 303, headers });
  }

  return async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const reqHeaders = c.get('headers');
    const [contentType, ctAttrs] = parseContentDisposition(reqHeaders.get('content-type') ?? '');
    const boundaryText = ctAttrs.get('boundary');
    if (contentType !== 'multipart/form-data' || boundaryText === undefined) return next();
    let path: string;
    try {
      path = unquoteUtf8(rawPathOf(c));
    } catch {
      return next(); // not UTF-8: the proxy refuses the path itself
    }
    const agent = `${reqHeaders.get('user-agent') ?? ''} FormPost`.trim();
    reqHeaders.set('user-agent', agent);
    const plain = (message: string) => swiftResponse(400, { body: `FormPost: ${message}`, contentType: 'text/plain' });
    try {
      // Header values are byte strings: the boundary's bytes as sent.
      const [outcome, attributes] = await translate(c, path, Buffer.from(asByteString(boundaryText), 'latin1'), agent);
      return answer(outcome, attributes.get('redirect'));
    } catch (err) {
      if (err instanceof MimeInvalid) return plain('invalid starting boundary');
      if (err instanceof MimeHeadersTooLong || err instanceof FormInvalid) return plain(err.message);
      if (err instanceof FormUnauthorized) {
        return swiftResponse(401, { body: `FormPost: ${title(err.message)}`, headers: { 'www-authenticate': 'Swift realm="unknown"' } });
      }
      // The client went away mid-form: nobody to answer but the access log.
      const incoming = c.env?.incoming;
      if (incoming && !incoming.complete) return swiftResponse(499);
      throw err;
    }
  };
}

export function parseFormPostOptions(conf: Section): FormPostOptions {
  return { digests: allowedDigests(conf, 'formpost') };
}

export const formpostFilter = defineFilter<FormPostOptions>({
  name: 'formpost',
  options: parseFormPostOptions,
  // register_swift_info('formpost', allowed_digests=..., deprecated_digests=... when any).
  info: ({ digests }) => ({
    formpost: {
      allowed_digests: digests.allowed,
      ...(digests.deprecated.length ? { deprecated_digests: digests.deprecated } : {}),
    },
  }),
  create: (options, ctx) => formpost(options, ctx),
});
