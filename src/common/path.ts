/**
 * Swift's split_path and name validation, shared by the proxy and the storage servers. Quoting
 * and percent-decoding are Python's, in src/compat/quote.ts.
 */
import { quote } from '../compat/quote';

export class InvalidPathError extends Error {}

/**
 * swift.common.utils.split_path: splits `/a/b/c` into exactly `maxSegs` segments (missing ones
 * undefined), requiring at least `minSegs`. With restWithLast, the last segment keeps any
 * further slashes. Throws InvalidPathError with Swift's message `Invalid path: <quoted>`.
 */
export function splitPath<S extends string>(path: S, minSegs: number, maxSegs = minSegs, restWithLast = false): (S | undefined)[] {
  const fail = (): never => {
    throw new InvalidPathError(`Invalid path: ${quote(path)}`);
  };
  const parts = path.split('/');
  let segs: string[];
  if (restWithLast) {
    segs = parts.length > maxSegs + 1 ? [...parts.slice(0, maxSegs), parts.slice(maxSegs).join('/')] : parts;
    const count = segs.length;
    if (segs[0] || count < minSegs + 1 || count > maxSegs + 1 || segs.slice(1, minSegs + 1).includes('')) fail();
  } else {
    segs = parts.length > maxSegs + 2 ? [...parts.slice(0, maxSegs + 1), parts.slice(maxSegs + 1).join('/')] : parts;
    const count = segs.length;
    if (
      segs[0] ||
      count < minSegs + 1 ||
      count > maxSegs + 2 ||
      segs.slice(1, minSegs + 1).includes('') ||
      (count === maxSegs + 2 && segs[maxSegs + 1])
    )
      fail();
  }
  // The segments of a byte string are byte strings, those of text are text.
  const out = segs.slice(1, maxSegs + 1) as (S | undefined)[];
  while (out.length < maxSegs) out.push(undefined);
  return out;
}
