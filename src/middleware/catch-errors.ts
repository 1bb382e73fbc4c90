/**
 * catch_errors (required, first in the pipeline): gives every request a transaction id
 * (`tx<21 hex>-<10 hex time><suffix>`), returns it as X-Trans-Id and X-Openstack-Request-Id,
 * and turns an uncaught error anywhere below into a bare 500 without internals.
 */
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from '../proxy/context';
import { defineFilter } from '../proxy/filter';
import { RequestHeaders } from '../proxy/request-headers';
import { editResponseHeaders, replaceResponse, swiftResponse } from '../proxy/response';
import { generateTransId } from '../common/trans-id';

export interface CatchErrorsOptions {
  /** Appended to every transaction id (Swift's trans_id_suffix). */
  transIdSuffix?: string;
}

export function catchErrors(options: CatchErrorsOptions = {}, onError?: (err: unknown, transId: string) => void): MiddlewareHandler<ProxyEnv> {
  const baseSuffix = options.transIdSuffix ?? '';
  return async (c, next) => {
    const raw = c.env?.incoming?.rawHeaders;
    const headers = raw ? RequestHeaders.fromRaw(raw) : RequestHeaders.fromHeaders(c.req.raw.headers);
    c.set('headers', headers);
    c.set('swiftOwner', false);
    c.set('resellerRequest', false);
    c.set('remoteUser', undefined);
    c.set('authorize', undefined);
    c.set('cleanAcl', undefined);
    c.set('authorizeOverride', false);
    c.set('preAuthenticated', false);
    c.set('infoCache', new Map());
    const extra = headers.get('x-trans-id-extra');
    const transId = generateTransId(extra ? `${baseSuffix}-${extra.slice(0, 32)}` : baseSuffix);
    c.set('transId', transId);
    // Hono's compose catches errors thrown below us and hands them to app.onError (whose
    // default answers "Internal Server Error"), recording them as c.error; an error can also
    // reach us directly when onError rethrows. Either way the client gets Swift's bare 500.
    let failure: unknown;
    try {
      await next();
      failure = c.error;
    } catch (err) {
      failure = err ?? new Error('unknown error');
    }
    if (failure !== undefined) {
      onError?.(failure, transId);
      replaceResponse(c, swiftResponse(500, { body: 'An error occurred', contentType: 'text/plain', method: c.req.method }));
    }
    editResponseHeaders(c, (h) => {
      h.set('x-trans-id', transId);
      h.set('x-openstack-request-id', transId);
    });
  };
}

export const catchErrorsFilter = defineFilter<CatchErrorsOptions>({
  name: 'catch_errors',
  options: (conf) => ({ transIdSuffix: conf.trans_id_suffix ?? '' }),
  create: (options, ctx) => catchErrors(options, (err, tx) => ctx.logger.error({ err, transaction_id: tx }, 'unhandled error')),
});
