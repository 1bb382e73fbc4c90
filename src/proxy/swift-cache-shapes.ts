/**
 * What sluice's shared-cache entries look like in memcached, so a Swift proxy sharing it reads
 * them and sluice reads Swift's: account and container info as the dicts Swift's
 * headers_to_account_info / headers_to_container_info build (header values kept as the strings
 * they were, `null` for absent ones), stored by set_info_cache; tempauth's entries are already
 * Swift's shapes (`[expires, groups]`, the token string) and pass through.
 *
 * sluice's validated Keystone tokens are kept under `sluice/tokens/<hash>` in memcached, not
 * keystonemiddleware's `tokens/<hash>`: keystonemiddleware stores a JSON string there (and reads
 * anything else as a crash), sluice stores the token object.
 *
 * Decoding never throws: an entry of an unexpected shape is a miss (the backend is asked).
 */
import type { AccountInfo, ContainerInfo } from './info-cache';

const ACCOUNT_PREFIX = 'account/';
const CONTAINER_PREFIX = 'container/';
const KEYSTONE_TOKEN_PREFIX = 'tokens/';

/** The memcached-side key (before Swift's md5) for a shared-cache key. */
export function storedKey(key: string): string {
  return key.startsWith(KEYSTONE_TOKEN_PREFIX) ? `sluice/${key}` : key;
}

/** A value as it goes into memcached (JSON, flag 2). */
export function encodeEntry(key: string, value: unknown): unknown {
  if (key.startsWith(ACCOUNT_PREFIX)) return accountToSwift(value as AccountInfo);
  if (key.startsWith(CONTAINER_PREFIX)) return containerToSwift(value as ContainerInfo);
  return value;
}

/** A value read from memcached, back in sluice's shape; undefined when it is not one. */
export function decodeEntry(key: string, stored: unknown): unknown {
  if (key.startsWith(ACCOUNT_PREFIX)) return accountFromSwift(stored);
  if (key.startsWith(CONTAINER_PREFIX)) return containerFromSwift(stored);
  return stored ?? undefined;
}

const isSuccess = (status: number) => status >= 200 && status < 300;

/** headers_to_account_info's dict; `account_really_exists` only for a success, as Swift. */
export function accountToSwift(info: AccountInfo): Record<string, unknown> {
  return {
    status: info.status,
    container_count: String(info.containerCount),
    total_object_count: String(info.objectCount),
    bytes: String(info.bytes),
    storage_policies: {},
    meta: info.meta,
    sysmeta: info.sysmeta,
    ...(isSuccess(info.status) ? { account_really_exists: info.reallyExists } : {}),
  };
}

/** headers_to_container_info's dict (sluice keeps no sharding state or timestamps: Swift's defaults). */
export function containerToSwift(info: ContainerInfo): Record<string, unknown> {
  return {
    status: info.status,
    read_acl: info.readAcl ?? null,
    write_acl: info.writeAcl ?? null,
    sync_to: info.syncTo ?? null,
    sync_key: info.syncKey ?? null,
    object_count: String(info.objectCount),
    bytes: String(info.bytes),
    versions: info.versions ?? null,
    storage_policy: String(info.storagePolicy),
    cors: {
      allow_origin: info.cors.allowOrigin ?? null,
      expose_headers: info.cors.exposeHeaders ?? null,
      max_age: info.cors.maxAge ?? null,
    },
    meta: info.meta,
    sysmeta: info.sysmeta,
    sharding_state: 'unsharded',
    created_at: null,
    put_timestamp: null,
    delete_timestamp: null,
    status_changed_at: null,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** get_account_info / get_container_info's int(field), None (or junk) as 0. */
function count(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : 0;
  if (typeof v !== 'string' || !/^\s*[-+]?\d+\s*$/.test(v)) return 0;
  return Number(v);
}

function optText(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A meta/sysmeta dict: string values only. */
function textDict(v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** What both info dicts must have: an int status, and meta and sysmeta dicts. */
function infoBase(v: unknown): { v: Record<string, unknown>; status: number; meta: Record<string, string>; sysmeta: Record<string, string> } | undefined {
  if (!isRecord(v)) return undefined;
  const st = typeof v.status === 'number' && Number.isInteger(v.status) ? v.status : undefined;
  const meta = textDict(v.meta);
  const sysmeta = textDict(v.sysmeta);
  return st === undefined || !meta || !sysmeta ? undefined : { v, status: st, meta, sysmeta };
}

export function accountFromSwift(stored: unknown): AccountInfo | undefined {
  const base = infoBase(stored);
  if (!base) return undefined;
  const { v, status: st, meta, sysmeta } = base;
  return {
    status: st,
    containerCount: count(v.container_count),
    // Older Swift wrote object_count; total_object_count since 2.x.
    objectCount: count(v.total_object_count ?? v.object_count),
    bytes: count(v.bytes),
    meta,
    sysmeta,
    reallyExists: isSuccess(st) && v.account_really_exists !== false,
  };
}

export function containerFromSwift(stored: unknown): ContainerInfo | undefined {
  const base = infoBase(stored);
  if (!base) return undefined;
  const { v, status: st, meta, sysmeta } = base;
  const cors = isRecord(v.cors) ? v.cors : {};
  return {
    status: st,
    readAcl: optText(v.read_acl),
    writeAcl: optText(v.write_acl),
    syncKey: optText(v.sync_key),
    syncTo: optText(v.sync_to),
    versions: optText(v.versions),
    // get_container_info's legacy name for object_count.
    objectCount: count(v.object_count ?? v.container_size),
    bytes: count(v.bytes),
    storagePolicy: count(v.storage_policy),
    cors: { allowOrigin: optText(cors.allow_origin), exposeHeaders: optText(cors.expose_headers), maxAge: optText(cors.max_age) },
    meta,
    sysmeta,
  };
}
