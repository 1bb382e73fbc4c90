/**
 * Deleting a large object with its segments, as swiftclient's delete does unless told to leave
 * them: an SLO through `?multipart-manifest=delete` (the server removes manifest and segments),
 * a DLO by deleting every object under its X-Object-Manifest prefix, then the manifest.
 */
import { unquote } from '../../compat/quote';
import { ClientHttpError } from '../types';
import type { StoreCore } from './core';
import { objectStat } from './headers';
import { objectEntries } from './listing';

/** Deletes `/container/object` paths one by one; a 404 (already gone) is not an error. */
export async function deletePaths(core: StoreCore, paths: readonly { container: string; object: string }[], signal?: AbortSignal): Promise<void> {
  for (const p of paths) {
    const res = await core.call(p, { method: 'DELETE', raiseExc: false, signal });
    const text = await res.text();
    if (res.status >= 300 && res.status !== 404) throw new ClientHttpError(res.status, 'DELETE', res.url, res.headers, text);
  }
}

/** The segments a DLO manifest value (`<container>/<prefix>`, URL-quoted as stored) names. */
export async function dloSegments(core: StoreCore, manifest: string, signal?: AbortSignal): Promise<{ container: string; object: string }[]> {
  const slash = manifest.indexOf('/');
  if (slash <= 0) return [];
  const container = unquote(manifest.slice(0, slash));
  const prefix = unquote(manifest.slice(slash + 1));
  const out: { container: string; object: string }[] = [];
  const listing = objectEntries((query, s) => core.call({ container }, { method: 'GET', query, signal: s, raiseExc: true }), { prefix, signal });
  for await (const e of listing) if (e.kind === 'object') out.push({ container, object: e.name });
  return out;
}

export async function deleteObjectWithSegments(core: StoreCore, container: string, object: string, signal?: AbortSignal): Promise<void> {
  const target = { container, object };
  const head = await core.call(target, { method: 'HEAD', raiseExc: false, signal });
  await head.text();
  const stat = head.status < 300 ? objectStat(head.headers) : undefined;
  if (stat?.largeObject === 'slo') {
    const res = await core.call(target, { method: 'DELETE', query: { 'multipart-manifest': 'delete' }, signal });
    await res.text();
    return;
  }
  if (stat?.largeObject === 'dlo' && stat.headers['x-object-manifest']) {
    await deletePaths(core, await dloSegments(core, stat.headers['x-object-manifest'], signal), signal);
  }
  const res = await core.call(target, { method: 'DELETE', signal });
  await res.text();
}
