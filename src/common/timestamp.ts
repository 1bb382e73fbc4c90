/**
 * Swift timestamps (swift.common.utils.Timestamp).
 *
 * A timestamp is a count of 10-microsecond ticks since the epoch plus an optional offset used
 * to order internal updates that share a wall-clock time. Normal form is `%016.05f`
 * (`1700000000.12345`); internal form appends `_%016x` when the offset is non-zero.
 */

const PRECISION = 100_000; // 5 decimal places
const MAX_SECONDS = 9_999_999_999; // Swift: "timestamp too large" at 10 digits before the point
const NORMAL_RE = /^\d{10}\.\d{5}$/;
const TIMESTAMP_RE = /^\s*(\d+)(?:\.(\d*))?(?:[eE][+-]?\d+)?(?:_([0-9a-fA-F]{1,16}))?\s*$/;

/** The last second isoformat wrote, and its `YYYY-MM-DDTHH:MM:SS`. */
let isoCache = { second: -1, text: '' };

export class InvalidTimestampError extends Error {}

export class Timestamp {
  /** Ticks of 10 µs since the epoch. */
  readonly ticks: number;
  readonly offset: bigint;

  constructor(ticks: number, offset: bigint = 0n) {
    if (!Number.isSafeInteger(ticks) || ticks < 0) throw new InvalidTimestampError('timestamp cannot be negative');
    if (ticks > MAX_SECONDS * PRECISION + (PRECISION - 1)) throw new InvalidTimestampError('timestamp too large');
    if (offset < 0n || offset >= 1n << 64n) throw new InvalidTimestampError('offset out of range');
    this.ticks = ticks;
    this.offset = offset;
  }

  static now(): Timestamp {
    return new Timestamp(Math.round(Date.now() * (PRECISION / 1000)));
  }

  static fromSeconds(seconds: number, offset: bigint = 0n): Timestamp {
    if (!Number.isFinite(seconds)) throw new InvalidTimestampError('timestamp must be finite');
    return new Timestamp(Math.round(seconds * PRECISION), offset);
  }

  /**
   * Parses the forms Swift accepts for X-Timestamp: a decimal float (optionally with an exponent)
   * and an optional `_<hex offset>`. Anything else throws InvalidTimestampError.
   */
  static parse(value: string | undefined | null): Timestamp {
    if (value == null) throw new InvalidTimestampError('missing timestamp');
    // The normal form, as every stored row has it (a listing parses one per row).
    if (value.length === 16 && NORMAL_RE.test(value)) return new Timestamp(Number(value.slice(0, 10)) * PRECISION + Number(value.slice(11)));
    const m = TIMESTAMP_RE.exec(value);
    if (!m) throw new InvalidTimestampError(`invalid timestamp ${JSON.stringify(value)}`);
    const floatPart = value.trim().split('_')[0]!;
    const seconds = Number(floatPart);
    if (!Number.isFinite(seconds)) throw new InvalidTimestampError(`invalid timestamp ${JSON.stringify(value)}`);
    let ticks: number;
    if (m[2] !== undefined && !/[eE]/.test(floatPart)) {
      // Exact decimal arithmetic for the common form, so no float rounding creeps in.
      const frac = (m[2] + '00000').slice(0, 5);
      const rest = m[2].slice(5);
      ticks = Number(m[1]) * PRECISION + Number(frac);
      if (rest.length > 0 && Number(rest[0]) >= 5) ticks += 1;
    } else {
      ticks = Math.round(seconds * PRECISION);
    }
    const offset = m[3] !== undefined ? BigInt('0x' + m[3]) : 0n;
    return new Timestamp(ticks, offset);
  }

  /** Like parse, but returns undefined instead of throwing. */
  static tryParse(value: string | undefined | null): Timestamp | undefined {
    // Most callers pass a header or metadata value that is usually absent: no error to build.
    if (value == null) return undefined;
    try {
      return Timestamp.parse(value);
    } catch {
      return undefined;
    }
  }

  get seconds(): number {
    return this.ticks / PRECISION;
  }

  /** `%016.05f`, e.g. `1700000000.12345`. */
  get normal(): string {
    const whole = Math.floor(this.ticks / PRECISION);
    const frac = this.ticks % PRECISION;
    return `${String(whole).padStart(10, '0')}.${String(frac).padStart(5, '0')}`;
  }

  /** Normal form plus `_%016x` when there is an offset. */
  get internal(): string {
    return this.offset === 0n ? this.normal : `${this.normal}_${this.offset.toString(16).padStart(16, '0')}`;
  }

  /** ISO 8601 with microseconds, as Swift's listings show `last_modified`. */
  get isoformat(): string {
    const second = Math.floor(this.ticks / PRECISION);
    // Rows written together share their second: its date text is made once.
    if (second !== isoCache.second) isoCache = { second, text: new Date(second * 1000).toISOString().slice(0, 19) };
    const micros = String((this.ticks % PRECISION) * 10).padStart(6, '0');
    return `${isoCache.text}.${micros}`;
  }

  /** HTTP-date (RFC 7231), rounded up to the whole second as Swift does for Last-Modified. */
  get httpDate(): string {
    return new Date(Math.ceil(this.ticks / PRECISION) * 1000).toUTCString();
  }

  compare(other: Timestamp): number {
    if (this.ticks !== other.ticks) return this.ticks < other.ticks ? -1 : 1;
    if (this.offset !== other.offset) return this.offset < other.offset ? -1 : 1;
    return 0;
  }

  newerThan(other: Timestamp | undefined): boolean {
    return other === undefined || this.compare(other) > 0;
  }

  toString(): string {
    return this.internal;
  }
}

