/**
 * Deleting many objects (or empty containers) at once: Swift's bulk middleware
 * (`POST <account>?bulk-delete`, one URL-quoted `/container[/object]` per line) when /info
 * announces `bulk_delete`, in requests of at most its max_deletes_per_request; otherwise one
 * DELETE each, as swiftclient falls back.
 */
import { quote } from '../../compat/quote';
import type { StoreCore, Target } from './core';
import { ObjectClientUsageError } from './errors';

export interface BulkDeleteResult {
  deleted: number;
  notFound: number;
  /** Paths that could not be deleted, with the status Swift gave (`409 Conflict`, ...). */
  errors: { path: string; status: string }[];
  /** Whether the bulk middleware did it (false: one DELETE per path). */
  bulk: boolean;
}

/** `c/o`, `/c/o`, `c` or `{ container, object }` as a target. */
export function bulkTarget(path: string | Target): Target {
  if (typeof path !== 'string') {
    if (!path.container) throw new ObjectClientUsageError('bulk delete: a path needs a container');
    return path;
  }
  const p = path.replace(/^\/+/, '');
  const slash = p.indexOf('/');
  if (p === '' || slash === 0) throw new ObjectClientUsageError(`bulk delete: ${JSON.stringify(path)} is not <container>[/<object>]`);
  return slash < 0 ? { container: p } : { container: p.slice(0, slash), object: p.slice(slash + 1) || undefined };
}

function lineOf(t: Target): string {
  return t.object === undefined ? `/${quote(t.container!, '')}` : `/${quote(t.container!, '')}/${quote(t.object, '/')}`;
}

interface BulkAnswer {
  'Number Deleted'?: number;
  'Number Not Found'?: number;
  'Response Status'?: string;
  'Response Body'?: string;
  Errors?: [string, string][];
}

async function oneByOne(core: StoreCore, targets: Target[], signal?: AbortSignal): Promise<BulkDeleteResult> {
  const out: BulkDeleteResult = { deleted: 0, notFound: 0, errors: [], bulk: false };
  for (const t of targets) {
    const res = await core.call(t, { method: 'DELETE', raiseExc: false, signal });
    await res.text();
    if (res.status === 404) out.notFound++;
    else if (res.status < 300) out.deleted++;
    else out.errors.push({ path: lineOf(t), status: String(res.status) });
  }
  return out;
}

export async function bulkDelete(core: StoreCore, paths: readonly (string | Target)[], opts: { signal?: AbortSignal } = {}): Promise<BulkDeleteResult> {
  const targets = paths.map(bulkTarget);
  const info = await core.info();
  const conf = info.bulk_delete;
  if (!conf) return oneByOne(core, targets, opts.signal);
  const max = Number(conf.max_deletes_per_request) || 10000;
  const out: BulkDeleteResult = { deleted: 0, notFound: 0, errors: [], bulk: true };
  for (let i = 0; i < targets.length; i += max) {
    const body = targets.slice(i, i + max).map(lineOf).join('\n') + '\n';
    const res = await core.call({}, {
      method: 'POST',
      query: { 'bulk-delete': '' },
      headers: { 'Content-Type': 'text/plain', Accept: 'application/json' },
      body,
      signal: opts.signal,
    });
    const answer = await res.json<BulkAnswer>();
    out.deleted += answer['Number Deleted'] ?? 0;
    out.notFound += answer['Number Not Found'] ?? 0;
    for (const [path, status] of answer.Errors ?? []) out.errors.push({ path, status });
    // A failure of the request as a whole (e.g. 400 for too many paths) is in Response Status.
    const overall = answer['Response Status'] ?? '200 OK';
    if (!/^2/.test(overall) && (answer.Errors ?? []).length === 0) out.errors.push({ path: '', status: `${overall}${answer['Response Body'] ? `: ${answer['Response Body']}` : ''}` });
  }
  return out;
}
