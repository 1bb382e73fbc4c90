/**
 * What `upload` and `download` move: local files under the names swiftclient gives them, and
 * object names turned into local paths that cannot leave the output directory.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors';

/** `1048576`, `512K`, `10M`, `1G`: the sizes swiftclient's --segment-size takes (powers of 1024). */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+)([BKMG]?)$/i.exec(text.trim());
  if (!m) throw new UsageError(`${what} must be a number of bytes, optionally with B, K, M or G, not ${JSON.stringify(text)}`);
  const n = Number(m[1]) * 1024 ** 'BKMG'.indexOf((m[2] || 'B').toUpperCase());
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${what} must be at least 1 byte`);
  return n;
}

export interface LocalFile {
  path: string;
  object: string;
  size: number;
}

/** swiftclient names an object by the path as given, without leading `/` and `./`. */
function objectNameOf(path: string): string {
  return path.split(sep).join('/').replace(/^(\.\/|\/)+/, '');
}

/**
 * The files to upload for the paths given: a directory is walked (files only; symbolic links are
 * not followed). `objectName` renames a single file, or replaces a single directory's path as
 * the prefix of its objects' names (swiftclient's --object-name).
 */
export function filesToUpload(paths: readonly string[], objectName?: string): LocalFile[] {
  if (objectName !== undefined && paths.length !== 1) throw new UsageError('--object-name takes exactly one FILE or directory');
  const out: LocalFile[] = [];
  const walk = (path: string, name: string) => {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) throw new UsageError(`no such file or directory: ${path}`);
    if (st.isDirectory()) {
      for (const entry of readdirSync(path).sort()) walk(join(path, entry), name === '' ? entry : `${name}/${entry}`);
    } else if (st.isFile()) {
      if (name === '') throw new UsageError(`cannot name an object after ${JSON.stringify(path)}`);
      out.push({ path, object: name, size: st.size });
    }
  };
  for (const p of paths) walk(p, objectName !== undefined ? objectName.replace(/\/+$/, '') : objectNameOf(normalize(p)).replace(/\/+$/, ''));
  return out;
}

/**
 * Where object `name` is written under `dir`. Names are not trusted: one that is absolute or
 * climbs out of `dir` (`../x`, `a/../../x`) is refused rather than written elsewhere.
 */
export function localPathFor(dir: string, name: string): string {
  const root = resolve(dir);
  const target = resolve(root, name);
  const rel = relative(root, target);
  if (name === '' || isAbsolute(name) || rel === '' || rel.startsWith('..') || isAbsolute(rel) || name.includes('\0')) {
    throw new Error(`refusing to write object ${JSON.stringify(name)} outside ${dir}`);
  }
  return target;
}

/** Runs `work` over `items`, at most `limit` at a time. */
export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}
