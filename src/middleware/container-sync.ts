/**
 * container_sync (swift/common/middleware/container_sync.py): lets another cluster's container
 * sync daemon write into a container that names it, with the realms of
 * `<swift_dir>/container-sync-realms.conf` (src/common/container-sync-realms.ts).
 *
 * A request with `X-Container-Sync-Auth: <realm> <nonce> <signature>` is accepted when the
 * signature is the HMAC-SHA1, keyed with the realm's key (or key2), of its method, path,
 * X-Timestamp, nonce and the container's X-Container-Sync-Key, compared in constant time; it
 * then carries `authorizeOverride`, the hook tempauth and keystoneauth honour with
 * allow_overrides (as Swift's swift.authorize_override), and its X-Timestamp, which the
 * gatekeeper set aside, is put back. Any other X-Container-Sync-Auth is Swift's 401.
 *
 * It also refuses X-Container-Sync-To on a container PUT or POST of a container with object
 * versioning, and on any request a value that is not a realm value
 * (`//realm/cluster/account/container`) unless allow_full_urls; the rest of the value's
 * checks are the container server's (Swift's validate_sync_to, realmSyncToError for realms).
 * `/info` gets `container_sync.realms` (and `current`), read again on each /info request.
 * Sits before the auth filter, as in Swift's sample pipeline. The sync daemon is not part of sluice.
 */
import { constantTimeEqual } from '../common/constant-time';
import { join } from 'node:path';
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from '../proxy/context';
import type { Section } from '../proxy/config';
import { defineFilter, type FilterContext, type InfoSections } from '../proxy/filter';
import type { ContainerInfo } from '../proxy/info-cache';
import { rawPathOf } from '../proxy/request-target';
import { swiftResponse } from '../proxy/response';
import { splitPath } from '../common/path';
import { ContainerSyncRealms, containerSyncSignature } from '../common/container-sync-realms';
import { isUtf8, textOf, type ByteString } from '../compat/bytes';
import { pySplit } from '../compat/py-whitespace';
import { quoteBytes, unquoteBytes } from '../compat/quote';
import { configTrue } from '../compat/truthy';
import { fetchContainerInfo } from './account-info';
import { swobRealm } from './auth-common';

export interface ContainerSyncOptions {
  /** The realms file, read at start-up (a file that cannot be parsed is a start-up error). */
  realms: ContainerSyncRealms;
  /** allow_full_urls (default true): X-Container-Sync-To may be a URL, not only a realm value. */
  allowFullUrls: boolean;
  /** `current = //REALM/CLUSTER`, upper case; `invalid` keeps the value Swift logs as invalid. */
  current: { realm: string; cluster: string } | { invalid: string } | undefined;
}

export function parseContainerSyncOptions(conf: Section): ContainerSyncOptions {
  const realms = new ContainerSyncRealms(join(conf.swift_dir ?? '/etc/swift', 'container-sync-realms.conf'));
  const raw = conf.current;
  let current: ContainerSyncOptions['current'];
  if (raw) {
    // Swift: current.strip('/').split('/') must give exactly realm and cluster.
    const parts = raw.replace(/^\/+|\/+$/g, '').split('/');
    current = parts.length === 2 ? { realm: parts[0]!.toUpperCase(), cluster: parts[1]!.toUpperCase() } : { invalid: raw };
  }
  return { realms, allowFullUrls: configTrue(conf.allow_full_urls ?? 'true'), current };
}

/** register_info: each realm that has clusters, the current cluster marked. */
function realmsInfo(options: ContainerSyncOptions): { realms: Record<string, { clusters: Record<string, { current?: true }> }>; unknownCurrent: boolean } {
  const realms: Record<string, { clusters: Record<string, { current?: true }> }> = {};
  for (const realm of options.realms.realms()) {
    const clusters = options.realms.clusters(realm);
    if (clusters.length) realms[realm] = { clusters: Object.fromEntries(clusters.map((c) => [c, {}])) };
  }
  const cur = options.current;
  let unknownCurrent = false;
  if (cur && 'realm' in cur) {
    const cluster = realms[cur.realm]?.clusters[cur.cluster];
    if (cluster) cluster.current = true;
    else unknownCurrent = true;
  }
  return { realms, unknownCurrent };
}

function infoSections(options: ContainerSyncOptions): InfoSections {
  return { container_sync: { realms: realmsInfo(options).realms } };
}

const FULL_URL_REFUSED = 'Full URLs are not allowed for X-Container-Sync-To values. Only realm values of the format //realm/cluster/account/container are allowed.\n';
const VERSIONED_REFUSED = 'Cannot configure container sync on a container with object versioning configured.';
const AUTH_INVALID = 'X-Container-Sync-Auth header not valid; contact cluster operator for support.';

/** streq_const_time: unequal lengths differ at once, equal ones are compared in constant time. */
function sameSignature(given: string, expected: string | undefined): boolean {
  if (expected === undefined) return false;
  return constantTimeEqual(given, expected, 'latin1');
}

export function containerSync(options: ContainerSyncOptions, ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  const logger = ctx.logger.child({ log_route: 'container_sync' });
  options.realms.logger = logger;
  const cur = options.current;
  if (cur && 'invalid' in cur) logger.error(`Invalid current //REALM/CLUSTER (${cur.invalid})`);
  else if (cur && realmsInfo(options).unknownCurrent) logger.error(`Unknown current //REALM/CLUSTER (//${cur.realm}/${cur.cluster})`);
  const { state } = ctx;

  return async (c, next) => {
    const path = unquoteBytes(rawPathOf(c));
    // Swift's req.path: PATH_INFO quoted again, what the signature covers.
    const quotedPath = quoteBytes(path);
    if (quotedPath === '/info') {
      // The freshest realms for /info.
      Object.assign(state.info, infoSections(options));
      return next();
    }
    let segs: (ByteString | undefined)[];
    try {
      segs = splitPath(path, 3, 4, true);
    } catch {
      return next();
    }
    const [version, account, container, object] = segs as [ByteString, ByteString, ByteString, ByteString | undefined];
    if (!state.constraints.valid_api_versions.includes(version) || !isUtf8(account) || !isUtf8(container)) return next();
    const method = c.req.method;
    const headers = c.get('headers');
    let info: ContainerInfo | undefined;
    const containerInfo = async () => (info ??= await fetchContainerInfo(state, c, textOf(account, 'strict'), textOf(container, 'strict')));

    const syncTo = headers.get('x-container-sync-to');
    const containerWrite = (method === 'PUT' || method === 'POST') && !object;
    if (containerWrite && syncTo && (await containerInfo()).sysmeta['versions-container']) {
      return swiftResponse(400, { body: VERSIONED_REFUSED, method });
    }
    if (!options.allowFullUrls && syncTo && !syncTo.startsWith('//')) return swiftResponse(400, { body: FULL_URL_REFUSED, method });

    const auth = headers.get('x-container-sync-auth');
    if (!auth) return next();
    let valid = false;
    const parts = pySplit(auth);
    if (parts.length === 3) {
      const [realm, nonce, sig] = parts as [string, string, string];
      const realmKey = options.realms.key(realm);
      const realmKey2 = options.realms.key2(realm);
      const userKey = realmKey ? (await containerInfo()).syncKey : undefined;
      if (realmKey && userKey) {
        // The gatekeeper set the client's X-Timestamp aside; a synced write keeps its timestamp.
        const inbound = headers.get('x-backend-inbound-x-timestamp');
        if (inbound !== undefined) {
          headers.delete('x-backend-inbound-x-timestamp');
          headers.set('x-timestamp', inbound);
        }
        const ts = headers.get('x-timestamp') ?? '0';
        const expected = containerSyncSignature(method, quotedPath, ts, nonce, realmKey, userKey);
        const expected2 = realmKey2 ? containerSyncSignature(method, quotedPath, ts, nonce, realmKey2, userKey) : expected;
        valid = sameSignature(sig, expected) || sameSignature(sig, expected2);
      }
    }
    if (!valid) {
      const realm = `SwiftContainerSync realm="${swobRealm(textOf(account, 'strict'))}"`;
      return swiftResponse(401, { body: AUTH_INVALID, contentType: 'text/plain', headers: { 'www-authenticate': realm }, method });
    }
    c.set('authorizeOverride', true);
    return next();
  };
}

export const containerSyncFilter = defineFilter<ContainerSyncOptions>({
  name: 'container_sync',
  options: parseContainerSyncOptions,
  info: infoSections,
  create: containerSync,
});
