/**
 * The soak's leak check: a series sampled at even intervals has grown beyond warm-up when the
 * median of its last quarter exceeds the median of its second quarter by more than the limit
 * (the larger of a fraction of that median and an absolute amount). The first quarter is
 * warm-up (JIT, caches and connection pools filling) and is not compared.
 */

export interface GrowthLimit {
  /** Allowed growth as a fraction of the warm median, e.g. 0.2. */
  relative: number;
  /** Allowed growth in the series' unit whatever the fraction, e.g. 16384 KiB of RSS. */
  absolute: number;
}

/** RSS in KiB: 20 %, at least 16 MiB (a small process's RSS moves by that with GC alone). */
export const RSS_LIMIT: GrowthLimit = { relative: 0.2, absolute: 16 * 1024 };
/** Open file descriptors: 25 %, at least 8 (keep-alive pools open and close sockets). */
export const FD_LIMIT: GrowthLimit = { relative: 0.25, absolute: 8 };

/** Fewer samples than this give no verdict: the quarters would be one or two samples. */
export const MIN_SAMPLES = 8;

export interface Growth {
  /** Median of the second quarter. */
  warm: number;
  /** Median of the last quarter. */
  late: number;
  allowed: number;
  grew: boolean;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The verdict on one series, or undefined with fewer than MIN_SAMPLES samples. */
export function growth(series: readonly number[], limit: GrowthLimit): Growth | undefined {
  if (series.length < MIN_SAMPLES) return undefined;
  const q = Math.floor(series.length / 4);
  const warm = median(series.slice(q, 2 * q));
  const late = median(series.slice(series.length - q));
  const allowed = Math.max(warm * limit.relative, limit.absolute);
  return { warm, late, allowed, grew: late - warm > allowed };
}
