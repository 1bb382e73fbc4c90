/**
 * Names and headers of object versioning (swift/common/middleware/versioned_writes/
 * object_versioning.py): versions live in the reserved namespace, in the hidden container
 * `\0versions\0<container>`, each under `\0<object>\0<inverted timestamp>` so that a listing
 * in name order shows an object's newest version first.
 */
import { Timestamp } from '../../common/timestamp';

/** Swift's RESERVED_STR: names that start with it are hidden from clients. */
export const RESERVED = '\x00';
export const CLIENT_VERSIONS_ENABLED = 'x-versions-enabled';
export const SYSMETA_VERSIONS_ENABLED = 'x-container-sysmeta-versions-enabled';
export const SYSMETA_VERSIONS_CONT = 'x-container-sysmeta-versions-container';
/** Set on the symlink object versioning writes in place of the current object. */
export const SYSMETA_VERSIONS_SYMLINK = 'x-object-sysmeta-versions-symlink';
/** What a delete marker's content type says (legacy history mode writes the same markers). */
export const DELETE_MARKER_CONTENT_TYPE = 'application/x-deleted;swift_versions_deleted=1';
export const ALLOW_RESERVED_NAMES = 'x-backend-allow-reserved-names';
export const VERSION_ID = 'x-object-version-id';

/** Swift's MAX_TIMESTAMP ticks: (999999999999999 - raw) inverts a timestamp. */
const MAX_TICKS = 999_999_999_999_999;

/** get_reserved_name: the parts joined by (and led by) the reserved byte. */
export function reservedName(...parts: string[]): string {
  if (parts.some((p) => p.includes(RESERVED))) throw new RangeError('Invalid reserved part in components');
  return RESERVED + parts.join(RESERVED);
}

/** split_reserved_name; undefined when the name is not in the reserved namespace. */
export function splitReservedName(name: string): string[] | undefined {
  return name.startsWith(RESERVED) ? name.split(RESERVED).slice(1) : undefined;
}

/** ~Timestamp(ts): the version part of a version's name; Swift refuses timestamps with offsets. */
export function invert(ts: Timestamp): Timestamp {
  if (ts.offset !== 0n) throw new RangeError('Cannot invert timestamps with offsets');
  return new Timestamp(MAX_TICKS - ts.ticks);
}

export function versionsContainerName(container: string): string {
  return reservedName('versions', container);
}

/** The container a versions container keeps versions for; the name itself when it is not one. */
export function parentContainerName(name: string): string {
  const parts = splitReservedName(name);
  return parts && parts.length === 2 && parts[0] === 'versions' ? parts[1]! : name;
}

export function versionsObjectPrefix(object: string): string {
  return reservedName(object, '');
}

export function versionsObjectName(object: string, ts: Timestamp): string {
  return reservedName(object, invert(ts).internal);
}

/** _split_version_from_name: the object name and its version, or the name and undefined. */
export function splitVersionFromName(name: string): [string, Timestamp | undefined] {
  const parts = splitReservedName(name);
  if (!parts || parts.length !== 2) return [name, undefined];
  const inverted = Timestamp.tryParse(parts[1]);
  if (!inverted || inverted.offset !== 0n) return [name, undefined];
  return [parts[0]!, invert(inverted)];
}

/** A version id as Swift's Timestamp(version) accepts it; undefined when it is not one. */
export function parseVersionId(version: string): Timestamp | undefined {
  return Timestamp.tryParse(version);
}
