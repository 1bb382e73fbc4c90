/**
 * The expiring-objects queue shared by proxy, object server and object expirer: objects with an
 * X-Delete-At get a task row `<delete_at>-<account>/<container>/<object>` in a container of the
 * hidden `.expiring_objects` account, named after the day (the divisor) the object expires in
 * and spread over 100 containers per day by the object's path hash (Swift's
 * get_expirer_container, build_task_obj and parse_task_obj).
 */
import { hashPath, type HashPathConfig } from './hash-path';
import { splitPath } from './path';
import { Timestamp } from './timestamp';

/** Swift's expiring_objects_account_name default; the account is auto_create_account_prefix + this. */
export const EXPIRING_OBJECTS_ACCOUNT_NAME = 'expiring_objects';
/** Swift's expiring_objects_container_divisor default: one queue container set per day. */
export const DEFAULT_EXPIRING_OBJECTS_CONTAINER_DIVISOR = 86400;

/** The largest X-Delete-At Swift keeps: more digits would break the queue's sorted order. */
const MAX_DELETE_AT = 9_999_999_999;

/** normalize_delete_at_timestamp: `%010d` of the value clamped to [0, 9999999999]. */
export function normalizeDeleteAt(seconds: number): string {
  return String(Math.floor(Math.min(Math.max(0, seconds), MAX_DELETE_AT))).padStart(10, '0');
}

/** `.expiring_objects`, or the configured name, under the cluster's auto-create prefix. */
export function expiringObjectsAccount(autoCreatePrefix: string, name = EXPIRING_OBJECTS_ACCOUNT_NAME): string {
  return autoCreatePrefix + (name || EXPIRING_OBJECTS_ACCOUNT_NAME);
}

/**
 * get_expirer_container: delete_at rounded down to the divisor, minus a shard in [0, 100) taken
 * from the object's path hash, as a 10-digit name.
 */
export function expirerContainer(deleteAt: number, divisor: number, hash: HashPathConfig, account: string, container: string, object: string): string {
  const shard = Number(BigInt('0x' + hashPath(hash, account, container, object)) % 100n);
  const day = Math.floor(Math.floor(deleteAt) / divisor) * divisor;
  return normalizeDeleteAt(day - shard);
}

/** build_task_obj: `<10-digit delete_at>-<account>/<container>/<object>`. */
export function buildTaskObject(deleteAt: number, account: string, container: string, object: string): string {
  return `${normalizeDeleteAt(deleteAt)}-${account}/${container}/${object}`;
}

export interface ExpirerTask {
  deleteAt: Timestamp;
  account: string;
  container: string;
  object: string;
}

export class InvalidTaskError extends Error {}

/**
 * parse_task_obj: the part before the first `-` is a timestamp (Python float syntax, with an
 * optional `_offset`), the rest an `a/c/o` path whose object may contain slashes and whose
 * parts must all be non-empty. Throws InvalidTaskError otherwise.
 */
export function parseTaskObject(name: string): ExpirerTask {
  const dash = name.indexOf('-');
  if (dash < 0) throw new InvalidTaskError(`task name without "-": ${JSON.stringify(name)}`);
  // Python's float() also takes a leading "+", which Timestamp.parse does not.
  const rawTs = name.slice(0, dash).trim().replace(/^\+/, '');
  const deleteAt = Timestamp.tryParse(rawTs);
  if (!deleteAt) throw new InvalidTaskError(`bad task timestamp in ${JSON.stringify(name)}`);
  let parts: (string | undefined)[];
  try {
    parts = splitPath('/' + name.slice(dash + 1), 3, 3, true);
  } catch {
    throw new InvalidTaskError(`bad task target in ${JSON.stringify(name)}`);
  }
  return { deleteAt, account: parts[0]!, container: parts[1]!, object: parts[2]! };
}
