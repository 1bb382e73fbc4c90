/**
 * Account listings under object versioning (object_versioning.py AccountContext): the hidden
 * versions containers stay hidden, but their bytes count in their container's entry; a
 * versions container whose container is gone is listed under that name with count 0, so its
 * owner can see and clean it up.
 */
import type { ParsedPath, ProxyContext } from '../../proxy/context';
import { readJsonListing, replaceListing } from '../listing-rewrite';
import { rawQueryOf } from '../../proxy/request-target';
import type { Identity } from '../../proxy/subrequest';
import { asByteString, bytesOf } from '../../compat/bytes';
import { getParam, swobParams, urlencode } from '../../compat/query';
import { configTrue } from '../../compat/truthy';
import type { Entry } from './container';
import { buildListing, requestLimit } from './list-versions';
import { parentContainerName, reservedName, versionsContainerName } from './names';
import { pathOf, type VersioningRequests } from './requests';

const ACCOUNT_LISTING_LIMIT = 10_000;

export async function listContainers(c: ProxyContext, path: ParsedPath, identity: Identity, requests: VersioningRequests, next: () => Promise<void>): Promise<void> {
  await next();
  const res = c.res;
  if (res.status < 200 || res.status >= 300) return;
  const listing = await readJsonListing(c);
  if (!listing) return;
  // The same listing parameters, moved into the versions containers' part of the namespace.
  const params = swobParams(rawQueryOf(c));
  const moved = (name: string): string | undefined => {
    const value = getParam(params, name);
    if (value === undefined) return undefined;
    try {
      return versionsContainerName(value);
    } catch {
      return value; // already reserved: left as it is
    }
  };
  params.set('prefix', bytesOf(params.has('prefix') ? moved('prefix')! : reservedName('versions')));
  for (const name of ['marker', 'end_marker']) if (params.has(name)) params.set(name, bytesOf(moved(name)!));
  params.set('format', asByteString('json'));
  const vres = await requests.preAuthed(identity, { method: 'GET', path: `${pathOf('v1', path.account)}?${urlencode(params)}` });
  let versions: unknown;
  try {
    versions = JSON.parse(await vres.text());
  } catch {
    versions = [];
  }
  const byParent = new Map<string, Entry>();
  for (const item of Array.isArray(versions) ? (versions as Entry[]) : []) {
    if ('name' in item) byParent.set(parentContainerName(String(item.name)), item);
  }
  for (const item of listing) {
    if (!('name' in item)) continue;
    const v = byParent.get(String(item.name));
    if (!v) continue;
    byParent.delete(String(item.name));
    item.bytes = Number(item.bytes) + Number(v.bytes);
  }
  for (const [name, item] of byParent) {
    item.name = name;
    item.count = 0; // none of these are current
    listing.push(item);
  }
  replaceListing(c, res, buildListing([listing], configTrue(getParam(params, 'reverse') ?? 'no'), requestLimit(params, ACCOUNT_LISTING_LIMIT)));
}
