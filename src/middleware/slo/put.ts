/**
 * SLO manifest PUT (`?multipart-manifest=put`, Swift's handle_multipart_put): the JSON list is
 * validated, every segment is HEADed as the requesting user (through SLO, so a nested manifest
 * reports its large object's size and ETag), the problems are reported all at once (400, a
 * bulk-style body in the Accept'ed format), and the manifest is stored in Swift's form with
 * X-Static-Large-Object, the SLO ETag and size in sysmeta, the listing's etag override and
 * `;swift_bytes=<total>` on the Content-Type. With `?heartbeat=on` the answer is `202` at once,
 * a space every `yield_frequency` seconds while segments are checked, then the result body.
 */
import { createHash } from 'node:crypto';
import { guessType } from '../../compat/mimetypes';
import type { ProxyContext } from '../../proxy/context';
import { RequestHeaders } from '../../proxy/request-headers';
import { rawPathOf, rawQueryOf } from '../../proxy/request-target';
import { swiftResponse } from '../../proxy/response';
import { captureIdentity, discard, type Identity } from '../../proxy/subrequest';
import { rangesForLength } from '../../../servers/object/ranges';
import { bestMatch } from '../../compat/accept';
import { textOf } from '../../compat/bytes';
import { HttpException } from '../../compat/http-exception';
import { swobParams } from '../../compat/query';
import { quote, unquoteBytes } from '../../compat/quote';
import { configTrue } from '../../compat/truthy';
import { defaultBody, statusLine, statusTitle } from '../../common/http-status';
import { responseBody } from '../bulk';
import { normalizeEtag, userAgent } from '../large-object/util';
import { SYSMETA_SLO_ETAG, SYSMETA_SLO_SIZE, type SloContext } from './context';
import { bodyOf } from './get';
import { manifestJson, overrideBytesFromContentType, parseAndValidateInput, readManifest, segmentLength, sloEtag, type InputSegment, type StoredSegment } from './manifest';

/** bulk's ACCEPTABLE_FORMATS, which SLO answers in. */
export const ACCEPTABLE_FORMATS = ['text/plain', 'application/json', 'application/xml', 'text/xml'];

const OVERRIDE_ETAG = 'x-object-sysmeta-container-update-override-etag';

/** `'\n'.join(RESPONSE_REASONS[status])`: a heartbeat result's body for a bodiless error. */
function reasonsText(status: number): string {
  const explanation = defaultBody(status).replace(/^<html><h1>.*?<\/h1><p>/, '').replace(/<\/p><\/html>$/, '');
  return `${statusTitle(status)}\n${explanation}`;
}

/** datetime.strftime('%Y-%m-%dT%H:%M:%S.%f') of a Last-Modified header. */
function lastModified(header: string | null): string {
  const ms = header ? Date.parse(header) : NaN;
  return new Date(Number.isNaN(ms) ? Date.now() : ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

/** At most `limit` bytes of the request body (Swift reads max_manifest_size bytes). */
async function readBody(c: ProxyContext, limit: number): Promise<Buffer> {
  const body = c.req.raw.body;
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(Buffer.from(value));
    size += value.length;
  }
  reader.releaseLock();
  return Buffer.concat(chunks).subarray(0, limit);
}

interface HeadResult {
  status: number;
  length: number;
  etag: string | undefined;
  contentType: string | undefined;
  lastModified: string | null;
  isSlo: boolean;
}

export class SloPut {
  constructor(private readonly slo: SloContext) {}

  /** A segment's HEAD as it looks through SLO: a manifest gives its large object's size and ETag. */
  private async head(c: ProxyContext, id: Identity, path: string): Promise<HeadResult> {
    const token = c.get('headers').get('x-auth-token');
    const headers: Record<string, string> = token !== undefined ? { 'x-auth-token': token } : {};
    const agent = userAgent(c, 'SLO MultipartPUT');
    const res = await this.slo.app(id, { method: 'HEAD', path, headers, agent });
    discard(res.body);
    const out: HeadResult = {
      status: res.status,
      length: Number(res.headers.get('content-length') ?? 0),
      etag: res.headers.get('etag')?.replace(/"/g, ''),
      contentType: res.headers.get('content-type')?.split(';')[0],
      lastModified: res.headers.get('last-modified'),
      isSlo: configTrue(res.headers.get('x-static-large-object') ?? ''),
    };
    if (out.isSlo && res.status >= 200 && res.status < 300) {
      const storedEtag = res.headers.get(SYSMETA_SLO_ETAG);
      const storedSize = res.headers.get(SYSMETA_SLO_SIZE);
      if (storedEtag && storedSize) {
        out.etag = storedEtag;
        out.length = Number(storedSize);
      } else {
        // An old manifest without the sysmeta: read it, as SLO's HEAD does.
        const get = await this.slo.app(id, { method: 'GET', path: `${path.slice(0, -1)}?multipart-manifest=get`, headers, agent });
        const segments = readManifest(await bodyOf(get));
        out.etag = sloEtag(segments);
        for (const seg of segments) overrideBytesFromContentType(seg);
        out.length = segments.reduce((n, seg) => n + segmentLength(seg), 0);
      }
    }
    return out;
  }

  /** validate_seg_dict: the stored form of a segment, its length, and its problems. */
  private check(seg: InputSegment & { kind: 'path' }, head: HeadResult, allowEmpty: boolean, problems: [string, string][]): [number, StoredSegment | undefined] {
    const name = quote(seg.path);
    if (head.status < 200 || head.status >= 300) {
      problems.push([name, statusLine(head.status)]);
      return [0, undefined];
    }
    let length = head.length;
    let range: string | undefined;
    if (seg.range) {
      const ranges = rangesForLength([seg.range], head.length) ?? [];
      if (ranges.length === 0) problems.push([name, 'Unsatisfiable Range']);
      else if (!(ranges[0]![0] === 0 && ranges[0]![1] === head.length)) {
        range = `${ranges[0]![0]}-${ranges[0]![1] - 1}`;
        length = ranges[0]![1] - ranges[0]![0];
      }
    }
    if (length < 1 && !allowEmpty) problems.push([name, 'Too small; each segment must be at least 1 byte.']);
    if (seg.size !== undefined && seg.size !== head.length) problems.push([name, 'Size Mismatch']);
    if (seg.etag !== undefined && seg.etag !== null && seg.etag !== head.etag) problems.push([name, 'Etag Mismatch']);
    const stored: StoredSegment = {
      name: `/${seg.path.replace(/^\/+/, '')}`,
      bytes: head.length,
      hash: head.etag,
      content_type: head.contentType,
      last_modified: lastModified(head.lastModified),
    };
    if (range) stored.range = range;
    if (head.isSlo) stored.sub_slo = true;
    return [length, stored];
  }

  async handle(c: ProxyContext): Promise<Response> {
    const headers = c.get('headers');
    const id = captureIdentity(c);
    if (headers.get('x-copy-from')) throw new HttpException(405, 'Multipart Manifest PUTs cannot be COPY requests');
    const cl = headers.get('content-length');
    if (cl === undefined) {
      if (headers.get('transfer-encoding')?.toLowerCase() !== 'chunked') throw new HttpException(411);
    } else if (Number(cl) > this.slo.options.maxManifestSize) {
      throw new HttpException(413, `Manifest File > ${this.slo.options.maxManifestSize} bytes`);
    }
    const reqPath = quote(textOf(unquoteBytes(rawPathOf(c)), 'surrogateescape'));
    const parsed = parseAndValidateInput(await readBody(c, this.slo.options.maxManifestSize), reqPath);
    const objectSegments = parsed.filter((s) => s.kind === 'path').length;
    if (objectSegments > this.slo.options.maxManifestSegments) {
      throw new HttpException(413, `Number of object-backed segments must be <= ${this.slo.options.maxManifestSegments}`);
    }
    let format: string;
    try {
      format = bestMatch(headers.get('accept'), ACCEPTABLE_FORMATS) ?? 'text/plain';
    } catch {
      format = 'text/plain';
    }
    const heartbeat = configTrue(swobParams(rawQueryOf(c)).get('heartbeat') ?? '');
    const work = (tick: () => void) => this.store(c, id, parsed, format, heartbeat, tick);
    if (!heartbeat) return (await work(() => undefined)) as Response;

    // 202 now, a space at once and then every yield_frequency seconds, the result last.
    const encoder = new TextEncoder();
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start: (ctrl) => {
        let last = Date.now();
        ctrl.enqueue(encoder.encode(' '));
        const tick = () => {
          if (cancelled || Date.now() - last <= this.slo.options.yieldFrequency * 1000) return;
          last = Date.now();
          ctrl.enqueue(encoder.encode(' '));
        };
        work(tick).then(
          (result) => {
            if (cancelled) return;
            ctrl.enqueue(encoder.encode(`\r\n\r\n${result as string}`));
            ctrl.close();
          },
          (err: unknown) => {
            if (!cancelled) ctrl.error(err);
          },
        );
      },
      cancel: () => {
        cancelled = true;
      },
    });
    return new Response(body, { status: 202, headers: { 'content-type': format } });
  }

  /** The HEADs, the checks and the manifest PUT: a Response, or the heartbeat result body. */
  private async store(c: ProxyContext, id: Identity, parsed: InputSegment[], format: string, heartbeat: boolean, tick: () => void): Promise<Response | string> {
    const [version, account] = textOf(unquoteBytes(rawPathOf(c)), 'surrogateescape').split('/').slice(1, 3) as [string, string];
    const problems: [string, string][] = [];
    const stored: (StoredSegment | undefined)[] = new Array(parsed.length);
    let total = 0;
    const byPath = new Map<string, number[]>();
    parsed.forEach((seg, i) => {
      if (seg.kind === 'data') {
        stored[i] = { data: seg.data };
        total += Buffer.from(seg.data, 'base64').length;
      } else byPath.set(seg.path, [...(byPath.get(seg.path) ?? []), i]);
    });

    // HEAD the distinct segments, `concurrency` at a time, applying results in order.
    const paths = [...byPath.keys()];
    const heads = new Map<string, Promise<HeadResult>>();
    const concurrency = Math.max(1, this.slo.options.concurrency);
    const start = (p: string) => heads.set(p, this.head(c, id, `${quote(`/${version}/${account}/${p.replace(/^\/+/, '')}`)}?`));
    paths.slice(0, concurrency).forEach(start);
    for (const [n, p] of paths.entries()) {
      const head = await heads.get(p)!;
      if (paths[n + concurrency] !== undefined) start(paths[n + concurrency]!);
      tick();
      for (const i of byPath.get(p)!) {
        const [length, seg] = this.check(parsed[i] as InputSegment & { kind: 'path' }, head, i === parsed.length - 1, problems);
        stored[i] = seg;
        total += length;
      }
    }

    if (problems.length) {
      if (heartbeat) return responseBody(format, { 'Response Status': statusLine(400), 'Response Body': reasonsText(400) }, problems, 'upload');
      return new Response(responseBody(format, {}, problems, 'upload'), { status: 400, headers: { 'content-type': format } });
    }
    const segments = stored as StoredSegment[];
    const etag = sloEtag(segments);
    const headers = c.get('headers');
    const clientEtag = normalizeEtag(headers.get('etag'));
    if (clientEtag && clientEtag !== etag) {
      if (heartbeat) return responseBody(format, { 'Response Status': statusLine(422), 'Response Body': reasonsText(422) }, problems, 'upload');
      return swiftResponse(422);
    }

    const json = Buffer.from(manifestJson(segments), 'utf8');
    const put = new RequestHeaders([...headers.entries()]);
    put.set(SYSMETA_SLO_ETAG, etag);
    put.set(SYSMETA_SLO_SIZE, String(total));
    put.set('x-static-large-object', 'True');
    put.set('etag', createHash('md5').update(json).digest('hex'));
    put.set('content-length', String(json.length));
    put.delete('transfer-encoding');
    // The container listing shows the SLO ETag too; a value set by middleware to the left stays.
    const override = headers.get(OVERRIDE_ETAG) ?? '';
    const semi = override.indexOf(';');
    const [val, rest] = semi < 0 ? [override, ''] : [override.slice(0, semi), override.slice(semi)];
    put.set(OVERRIDE_ETAG, `${val || put.get('etag')}${rest}; slo_etag=${etag}`);
    let contentType = headers.get('content-type');
    if (!contentType) {
      // Swift: mimetypes.guess_type(req.path_info), as the object controller guesses.
      contentType = (guessType(unquoteBytes(rawPathOf(c)))[0] ?? 'application/octet-stream') as typeof contentType;
    }
    put.set('content-type', `${contentType};swift_bytes=${total}`);
    const query = rawQueryOf(c);
    const res = await this.slo.app(id, { method: 'PUT', path: rawPathOf(c) + (query ? `?${query}` : ''), headers: put, body: new Blob([json]).stream() });
    const ok = res.status >= 200 && res.status < 300;
    if (!heartbeat) {
      if (!ok) return res;
      const h = new Headers(res.headers);
      h.set('etag', `"${etag}"`);
      return new Response(res.body, { status: res.status, headers: h });
    }
    const result: Record<string, string> = { 'Response Status': statusLine(res.status) };
    if (ok) {
      result.Etag = `"${etag}"`;
      result['Last Modified'] = res.headers.get('last-modified') ?? '';
    }
    result['Response Body'] = (await bodyOf(res)).toString('utf8');
    return responseBody(format, result, [], 'upload');
  }
}

