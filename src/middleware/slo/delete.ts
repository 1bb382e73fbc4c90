/**
 * SLO `DELETE ?multipart-manifest=delete` (Swift's handle_multipart_delete, which hands the
 * deletes to bulk's handle_delete_iter): the manifest is read as the requesting user, its
 * segments are deleted (nested manifests expanded, each deleted after its own segments), the
 * manifest last, each DELETE a subrequest authorized like a client's. The answer is always
 * `200 OK` streamed as bulk delete's: a space every `yield_frequency` seconds while the
 * deletes run, then the result (`Number Deleted`, `Number Not Found`, `Errors`, `Response
 * Status`) in the Accept'ed format.
 */
import type { ProxyContext } from '../../proxy/context';
import { rawPathOf, rawQueryOf } from '../../proxy/request-target';
import { captureIdentity, discard, type Identity } from '../../proxy/subrequest';
import { bestMatch } from '../../compat/accept';
import { checkUtf8, bytesOf, textOf } from '../../compat/bytes';
import { HttpException } from '../../compat/http-exception';
import { swobParams } from '../../compat/query';
import { quote, unquoteBytes } from '../../compat/quote';
import { configTrue } from '../../compat/truthy';
import { statusLine } from '../../common/http-status';
import { responseBody } from '../bulk';
import { userAgent } from '../large-object/util';
import type { SloContext } from './context';
import { bodyOf } from './get';
import { ACCEPTABLE_FORMATS } from './put';
import type { StoredSegment } from './manifest';

interface ToDelete {
  name: string;
  subSlo: boolean;
  error?: { code: number; message: string };
  isData?: boolean;
}

export class SloDelete {
  constructor(private readonly slo: SloContext) {}

  /** get_slo_segments: the manifest's segments, or the HttpException Swift raises. */
  private async segmentsOf(c: ProxyContext, id: Identity, version: string, account: string, name: string): Promise<StoredSegment[]> {
    const versionId = swobParams(rawQueryOf(c)).get('version-id');
    const query = `multipart-manifest=get${versionId !== undefined ? `&version-id=${versionId}` : ''}`;
    const headers: Record<string, string> = { range: 'bytes=-1', 'x-backend-ignore-range-if-metadata-present': 'X-Static-Large-Object', 'content-length': '0' };
    const token = c.get('headers').get('x-auth-token');
    if (token !== undefined) headers['x-auth-token'] = token;
    const res = await this.slo.app(id, { method: 'GET', path: `${quote(`/${version}/${account}/${name.replace(/^\/+/, '')}`)}?${query}`, headers, agent: userAgent(c, 'MultipartDELETE') });
    if (res.status >= 200 && res.status < 300) {
      if (!configTrue(res.headers.get('x-static-large-object') ?? '')) {
        discard(res.body);
        throw new HttpException(400, 'Not an SLO manifest');
      }
      try {
        const parsed = JSON.parse((await bodyOf(res)).toString('utf8')) as unknown;
        if (Array.isArray(parsed)) return parsed as StoredSegment[];
      } catch {
        // below
      }
      throw new HttpException(500, 'Unable to load SLO manifest');
    }
    discard(res.body);
    if (res.status === 404) throw new HttpException(404, 'SLO manifest not found');
    if (res.status === 401) throw new HttpException(401, '401 Unauthorized');
    throw new HttpException(500, 'Unable to load SLO manifest or segment.');
  }

  /** get_segments_to_delete_iter: segments before the manifests that list them. */
  private async *toDelete(c: ProxyContext, id: Identity, version: string, account: string, container: string, obj: string): AsyncGenerator<ToDelete> {
    const queue: ToDelete[] = [{ name: `/${container}/${obj}`, subSlo: true }];
    while (queue.length) {
      // Swift bounds what it holds at ten times max_manifest_segments.
      if (queue.length > this.slo.options.maxManifestSegments * 10) throw new HttpException(400, 'Too many buffered slo segments to delete.');
      const item = queue.shift()!;
      if (item.isData) continue;
      if (item.subSlo) {
        try {
          for (const seg of await this.segmentsOf(c, id, version, account, item.name)) {
            queue.push(seg.data !== undefined ? { name: '', subSlo: false, isData: true } : { name: String(seg.name), subSlo: configTrue(String(seg.sub_slo ?? '')) });
          }
        } catch (err) {
          if (!(err instanceof HttpException)) throw err;
          item.error = { code: err.status, message: err.body ?? '' };
        }
        queue.push({ ...item, subSlo: false });
      } else yield item;
    }
  }

  handle(c: ProxyContext): Response {
    const id = captureIdentity(c);
    let format: string | undefined;
    try {
      format = bestMatch(c.get('headers').get('accept'), ACCEPTABLE_FORMATS);
    } catch {
      format = undefined;
    }
    const frequency = this.slo.options.yieldFrequency * 1000;
    const encoder = new TextEncoder();
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start: (ctrl) => {
        let last = Date.now();
        let toYield = format?.endsWith('/xml') ? '<?xml version="1.0" encoding="UTF-8"?>\n' : ' ';
        let separator = '';
        const tick = () => {
          if (cancelled || last + frequency >= Date.now()) return;
          last = Date.now();
          ctrl.enqueue(encoder.encode(toYield));
          toYield = ' ';
          separator = '\r\n\r\n';
        };
        this.run(c, id, format, tick).then(
          (result) => {
            if (cancelled) return;
            ctrl.enqueue(encoder.encode(separator + result));
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
    return new Response(body, { status: 200, headers: { 'content-type': format ?? 'text/html; charset=UTF-8' } });
  }

  /** handle_delete_iter with SLO's list of objects: the result body. */
  private async run(c: ProxyContext, id: Identity, format: string | undefined, tick: () => void): Promise<string> {
    const result: Record<string, string | number> = { 'Response Status': statusLine(200), 'Response Body': '', 'Number Deleted': 0, 'Number Not Found': 0 };
    const failed: [string, string][] = [];
    let failedType = 400;
    try {
      if (!format) throw new HttpException(406);
      const path = unquoteBytes(rawPathOf(c));
      if (!checkUtf8(path)) throw new HttpException(412, 'Invalid UTF8 or contains NULL');
      const [, version, account, container, ...rest] = textOf(path, 'surrogateescape').split('/') as string[];
      const token = c.get('headers').get('x-auth-token');
      const del = (name: string) =>
        this.slo.app(id, {
          method: 'DELETE',
          path: quote(`/${version}/${account}/${name.replace(/^\/+/, '')}`),
          headers: { ...(token !== undefined ? { 'x-auth-token': token } : {}), 'content-length': '0' },
          agent: userAgent(c, 'MultipartDELETE'),
        });
      const inFlight: { name: string; res: Promise<Response> }[] = [];
      const settle = async () => {
        const { name, res } = inFlight.shift()!;
        const r = await res;
        discard(r.body);
        tick();
        if (r.status >= 200 && r.status < 300) result['Number Deleted'] = (result['Number Deleted'] as number) + 1;
        else if (r.status === 404) result['Number Not Found'] = (result['Number Not Found'] as number) + 1;
        else {
          if (Math.floor(r.status / 100) === 5) failedType = 502;
          failed.push([quote(name), statusLine(r.status)]);
        }
      };
      const concurrency = Math.max(1, this.slo.options.deleteConcurrency);
      for await (const item of this.toDelete(c, id, version!, account!, container!, rest.join('/'))) {
        if (!item.name || !item.name.replace(/^\/+|\/+$/g, '').includes('/')) continue;
        if (item.error) {
          if (item.error.code === 404) result['Number Not Found'] = (result['Number Not Found'] as number) + 1;
          else failed.push([quote(item.name), item.error.message]);
          continue;
        }
        if (!checkUtf8(bytesOf(`/${version}/${account}/${item.name.replace(/^\/+/, '')}`))) {
          failed.push([quote(item.name), statusLine(412)]);
          continue;
        }
        const res = del(item.name);
        res.catch(() => undefined);
        inFlight.push({ name: item.name, res });
        if (inFlight.length >= concurrency) await settle();
      }
      while (inFlight.length) await settle();
      if (failed.length) result['Response Status'] = statusLine(failedType);
      else if (!(result['Number Deleted'] || result['Number Not Found'])) {
        result['Response Status'] = statusLine(400);
        result['Response Body'] = 'Invalid bulk delete.';
      }
    } catch (err) {
      if (!(err instanceof HttpException)) {
        this.slo.logger.error({ err }, 'Error in bulk delete.');
        result['Response Status'] = statusLine(500);
      } else {
        result['Response Status'] = statusLine(err.status);
        result['Response Body'] = err.body ?? '';
      }
    }
    return responseBody(format ?? null, result, failed, 'delete');
  }
}
