/**
 * `GET <container>?versions` (object_versioning.py _list_versions): the container's own
 * listing (unversioned objects as version `null`, links to current versions) merged with the
 * hidden versions container's, every entry with `version_id` and `is_latest`, newest version
 * of each name first. JSON only: anything else the client asks for is 406.
 * `marker` with `version_marker` pages within one name's versions.
 */
import type { ParsedPath, ProxyContext } from '../../proxy/context';
import { replaceResponse } from '../../proxy/response';
import { rawQueryOf } from '../../proxy/request-target';
import type { Identity } from '../../proxy/subrequest';
import type { ByteString } from '../../compat/bytes';
import { bestMatch, InvalidAcceptError } from '../../compat/accept';
import { HttpException } from '../../compat/http-exception';
import { pyJsonDumps, pyStrCompare } from '../../compat/json';
import { getParam, swobParams } from '../../compat/query';
import { quote, unquote } from '../../compat/quote';
import { configTrue } from '../../compat/truthy';
import { leaveListingUnformatted } from '../listing-formats';
import { replaceListing } from '../listing-rewrite';
import { drain } from '../symlink';
import type { Entry } from './container';
import { DELETE_MARKER_CONTENT_TYPE, parseVersionId, RESERVED, reservedName, splitReservedName, splitVersionFromName, versionsObjectName, versionsObjectPrefix } from './names';
import { pathOf, type VersioningRequests } from './requests';

const CONTAINER_LISTING_LIMIT = 10_000;
const FORMAT_TYPES: Record<string, string> = { json: 'application/json', xml: 'application/xml', plain: 'text/plain' };

/** build_listing: the parts spliced, sorted by name (or subdir), reversed on request, cut to the limit. */
export function buildListing(parts: Entry[][], reverse: boolean, limit: number): Buffer {
  const key = (e: Entry) => String('subdir' in e ? e.subdir : e.name);
  const all = parts.flat().sort((a, b) => (reverse ? pyStrCompare(key(b), key(a)) : pyStrCompare(key(a), key(b))));
  return Buffer.from(pyJsonDumps(all.slice(0, limit)), 'ascii');
}

/** constrain_req_limit: a digits-only `limit` (the primary listing already refused one too big). */
export function requestLimit(params: ReadonlyMap<string, ByteString>, max: number): number {
  const given = getParam(params, 'limit');
  return given && /^\d+$/.test(given) ? Math.min(Number(given), max) : max;
}

/** The listing type the client asked for (listing_formats turns `format=` into Accept). */
function acceptsJson(c: ProxyContext, params: ReadonlyMap<string, ByteString>): boolean {
  const format = getParam(params, 'format');
  const header = format ? (FORMAT_TYPES[format.toLowerCase()] ?? 'text/plain') : c.get('headers').get('accept');
  try {
    return bestMatch(header, ['application/json']) !== undefined;
  } catch (err) {
    if (err instanceof InvalidAcceptError) return false;
    throw err;
  }
}

export async function listVersions(c: ProxyContext, path: ParsedPath, identity: Identity, requests: VersioningRequests, location: string, primary: Entry[], primaryRes: Response): Promise<void> {
  leaveListingUnformatted(c);
  const params = swobParams(rawQueryOf(c));
  if (!acceptsJson(c, params)) throw new HttpException(406);
  const query: Record<string, string> = {};
  for (const k of ['prefix', 'marker', 'limit', 'delimiter', 'reverse']) query[k] = getParam(params, k) ?? '';
  const versionMarker = getParam(params, 'version_marker');
  if (params.has('version_marker')) {
    if (!params.has('marker')) throw new HttpException(400, 'version_marker param requires marker');
    if (versionMarker !== 'null') {
      const ts = parseVersionId(versionMarker ?? '');
      // sluice: a timestamp with an offset is refused here too (Swift fails with a 500).
      if (!ts || ts.offset !== 0n) throw new HttpException(400, 'invalid version_marker param');
      query.marker = versionsObjectName(query.marker!, ts);
    }
  } else if (params.has('marker')) {
    query.marker = versionsObjectPrefix(query.marker!) + ':'; // just past every version id
  }
  // Version ids are digits and dots: such a delimiter would cut them apart.
  if ([...query.delimiter!].some((ch) => '0123456789.'.includes(ch) || ch === RESERVED)) throw new HttpException(400, 'invalid delimiter param');

  const nullListing: Entry[] = [];
  const subdirs = new Set<string>();
  const current = new Map<string, Entry>();
  const latest = new Set<string>();
  for (const item of primary) {
    if (!('name' in item)) subdirs.add(String(item.subdir));
    else if (item.version_symlink) current.set(unquote(String(item.symlink_path)), item);
    else {
      nullListing.push({ ...item, version_id: 'null', is_latest: true });
      latest.add(String(item.name));
    }
  }
  if (params.has('prefix')) query.prefix = reservedName(query.prefix!);
  const qs = Object.entries(query)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${quote(v, '')}`)
    .join('&');
  const res = await requests.preAuthed(identity, { method: 'GET', path: `${pathOf('v1', path.account, location)}?format=json&${qs}` });
  const reverse = configTrue(query.reverse);
  const limit = requestLimit(params, CONTAINER_LISTING_LIMIT);
  let body: Buffer;
  if (res.status === 404) {
    await drain(res);
    const broken: Entry[] = [];
    for (const item of current.values()) {
      const linked = unquote(String(item.symlink_path)).split('/').slice(4).join('/');
      const [name, ts] = splitVersionFromName(linked);
      if (ts === undefined) continue;
      const isLatest = !latest.has(name);
      latest.add(name);
      broken.push(brokenEntry(item, name, ts.internal, isLatest));
    }
    body = buildListing([nullListing, [...subdirs].map((s) => ({ subdir: s })), broken], reverse, limit);
  } else if (res.status >= 200 && res.status < 300) {
    const text = await res.text();
    let listing: unknown;
    try {
      listing = text ? JSON.parse(text) : [];
    } catch {
      listing = undefined;
    }
    if (!Array.isArray(listing)) {
      replaceListing(c, primaryRes, Buffer.from(pyJsonDumps(primary), 'utf8'));
      return;
    }
    const versions: Entry[] = [];
    for (const item of listing as Entry[]) {
      if (!('name' in item)) {
        subdirs.add((splitReservedName(String(item.subdir)) ?? [String(item.subdir)])[0]!);
        continue;
      }
      const stored = String(item.name);
      const [name, ts] = splitVersionFromName(stored);
      if (ts === undefined) continue;
      const linkPath = `/v1/${path.account}/${location}/${stored}`;
      if (current.has(linkPath)) {
        item.is_latest = true;
        latest.add(name);
        current.delete(linkPath);
      } else if (item.content_type === DELETE_MARKER_CONTENT_TYPE && !latest.has(name)) {
        item.is_latest = true;
        latest.add(name);
      } else item.is_latest = false;
      item.name = name;
      item.version_id = ts.internal;
      versions.push(item);
    }
    // Links whose version is missing from the listing (Swift reads their name past the
    // first slash of the path, which never parses, so none are listed).
    const broken: Entry[] = [];
    for (const item of current.values()) {
      const [name, ts] = splitVersionFromName(unquote(String(item.symlink_path)).split('/').slice(1).join('/'));
      if (ts !== undefined) broken.push(brokenEntry(item, name, ts.internal, true));
    }
    body = buildListing([nullListing, versions, [...subdirs].map((s) => ({ subdir: s })), broken], reverse, limit);
  } else {
    replaceResponse(c, res);
    return;
  }
  replaceListing(c, primaryRes, body);
}

function brokenEntry(item: Entry, name: string, versionId: string, isLatest: boolean): Entry {
  return { name, is_latest: isLatest, version_id: versionId, content_type: item.content_type, bytes: item.bytes, hash: item.hash, last_modified: item.last_modified };
}
