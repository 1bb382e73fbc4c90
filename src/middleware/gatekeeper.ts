/**
 * gatekeeper (required, right after catch_errors): clients can never send or receive
 * account/container/object sysmeta, object transient sysmeta or `x-backend-*` headers, nor the
 * update-routing headers that steer storage servers (X-Account-Host, X-Container-Device, ...;
 * Swift blocks those only from 2.38, CVE-2026-50221; sluice always does). A client's
 * X-Timestamp is kept aside as X-Backend-Inbound-X-Timestamp rather than trusted.
 */
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from '../proxy/context';
import { defineFilter } from '../proxy/filter';
import { editResponseHeaders } from '../proxy/response';
import { configTrue } from '../compat/truthy';

/**
 * Sysmeta, transient sysmeta, x-backend-* and the update-routing headers, as one expression
 * (eight tried in turn showed in the auth path's profile: every request and response header
 * goes through it).
 */
const BLOCKED =
  /^x-(?:(?:account|container|object|object-transient)-sysmeta-|backend|account-(?:host|device|partition)$|container-(?:host|device|partition|root-db-state)$|delete-at-(?:host|device|partition|container)$)/i;

export function isBlockedHeader(name: string): boolean {
  return BLOCKED.test(name);
}

export interface GatekeeperOptions {
  /** Keep a client's X-Timestamp aside as X-Backend-Inbound-X-Timestamp (default true). */
  shuntInboundXTimestamp?: boolean;
  /** Pass X-Allow-Reserved-Names on as X-Backend-Allow-Reserved-Names (default false). */
  allowReservedNamesHeader?: boolean;
}

export function gatekeeper(options: GatekeeperOptions = {}): MiddlewareHandler<ProxyEnv> {
  const shuntTimestamp = options.shuntInboundXTimestamp ?? true;
  const allowReservedNames = options.allowReservedNamesHeader ?? false;
  return async (c, next) => {
    const headers = c.get('headers');
    headers.deleteWhere(isBlockedHeader);
    const ts = headers.get('x-timestamp');
    if (ts !== undefined && shuntTimestamp) {
      headers.delete('x-timestamp');
      headers.set('x-backend-inbound-x-timestamp', ts);
    }
    const reserved = headers.get('x-allow-reserved-names');
    headers.delete('x-allow-reserved-names');
    if (reserved !== undefined && allowReservedNames) headers.set('x-backend-allow-reserved-names', reserved);
    await next();
    const blocked = [...c.res.headers.keys()].filter(isBlockedHeader);
    if (blocked.length === 0) return;
    editResponseHeaders(c, (h) => {
      for (const name of blocked) h.delete(name);
    });
  };
}

export const gatekeeperFilter = defineFilter<GatekeeperOptions>({
  name: 'gatekeeper',
  options: (conf) => ({
    shuntInboundXTimestamp: configTrue(conf.shunt_inbound_x_timestamp ?? 'true'),
    allowReservedNamesHeader: configTrue(conf.allow_reserved_names_header ?? 'false'),
  }),
  create: (options) => gatekeeper(options),
});
