/**
 * slo (swift/common/middleware/slo.py): Static Large Objects. A manifest PUT with
 * `?multipart-manifest=put` (put.ts) stores a JSON list of segments; GET and HEAD of the
 * manifest read as the concatenated segments (get.ts); `DELETE ?multipart-manifest=delete`
 * removes the segments and the manifest (delete.ts); container listings show each SLO's ETag
 * as `slo_etag`. Anything else carrying X-Static-Large-Object is refused: only this middleware
 * may set it.
 */
import type { MiddlewareHandler } from 'hono';
import type { ProxyContext, ProxyEnv } from '../../proxy/context';
import { defineFilter, type FilterContext } from '../../proxy/filter';
import { rawPathOf, rawQueryOf } from '../../proxy/request-target';
import { exceptionResponse, swiftResponse } from '../../proxy/response';
import { splitPath } from '../../common/path';
import { HttpException } from '../../compat/http-exception';
import { swobParams } from '../../compat/query';
import { unquoteBytes } from '../../compat/quote';
import { sloOptions, type SloContext, type SloOptions } from './context';
import { rewriteJsonListing } from '../listing-rewrite';
import { SloDelete } from './delete';
import { SloGet } from './get';
import { SloPut } from './put';

/** Listings up to this size are rewritten (listing_formats' MAX_CONTAINER_LISTING_CONTENT_LENGTH). */
const MAX_LISTING_LENGTH = 1024 * 1024 * 10;

/** handle_container_listing: `hash; slo_etag=X` becomes the hash plus a quoted `slo_etag`. */
async function containerListing(c: ProxyContext, next: () => Promise<void>): Promise<void> {
  await next();
  await rewriteJsonListing(
    c,
    (item) => {
      if ('subdir' in item || typeof item.hash !== 'string' || !item.hash.includes(';')) return false;
      const parts = item.hash.split(';').map((p) => p.trim());
      const params = parts.slice(1).map((p) => [p.slice(0, p.indexOf('=')).trim().toLowerCase(), p.slice(p.indexOf('=') + 1).trim()] as const);
      const slo = params.find(([k]) => k === 'slo_etag');
      if (!slo) return false;
      item.slo_etag = `"${slo[1]}"`;
      item.hash = parts[0] + params.filter(([k]) => k !== 'slo_etag').map(([k, v]) => `; ${k}=${v}`).join('');
      return true;
    },
    { maxLength: MAX_LISTING_LENGTH, onlyHashParams: true },
  );
}

export function slo(options: SloOptions, ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  const context: SloContext = { app: ctx.app, options, logger: ctx.logger.child({ log_route: 'slo' }) };
  const getter = new SloGet(context);
  const putter = new SloPut(context);
  const deleter = new SloDelete(context);
  return async (c, next) => {
    const path = rawPathOf(c);
    let segs: (string | undefined)[];
    try {
      segs = splitPath(unquoteBytes(path), 3, 4, true);
    } catch {
      return next();
    }
    const method = c.req.method;
    if (!segs[3]) {
      if (method === 'GET') await containerListing(c, next);
      else await next();
      return;
    }
    const manifestParam = swobParams(rawQueryOf(c)).get('multipart-manifest');
    try {
      if (method === 'PUT' && manifestParam === 'put') return await putter.handle(c);
      // `async` (Swift's expirer-queued segment deletes) is not offered: /info says
      // allow_async_delete false, and such a request is deleted synchronously.
      if (method === 'DELETE' && manifestParam === 'delete') return deleter.handle(c);
      if (method === 'GET' || method === 'HEAD') return await getter.handle(c, next);
      if (c.get('headers').has('x-static-large-object')) {
        return swiftResponse(400, { body: 'X-Static-Large-Object is a reserved header. To create a static large object add query param multipart-manifest=put.' });
      }
    } catch (err) {
      if (err instanceof HttpException) return exceptionResponse(err, method);
      throw err;
    }
    return next();
  };
}

export const sloFilter = defineFilter<SloOptions>({
  name: 'slo',
  options: sloOptions,
  // register_swift_info('slo', ...); min_segment_size is no longer configurable and reported as 1.
  info: (o) => ({
    slo: {
      max_manifest_segments: o.maxManifestSegments,
      max_manifest_size: o.maxManifestSize,
      yield_frequency: o.yieldFrequency,
      min_segment_size: 1,
      allow_async_delete: false,
    },
  }),
  create: (options, ctx) => slo(options, ctx),
});
