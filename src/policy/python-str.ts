/**
 * Python's `str()` and truth value of the JSON-shaped values a policy compares. oslo.policy
 * compares a check's value with `str(credential)` and substitutes `%(key)s` with
 * `str(target[key])`, so `True` matches a boolean true, `None` a null, and a list matches its
 * Python repr. JavaScript cannot tell `1` from `1.0`: a safe integer prints as Python's int.
 */
import { pyRepr } from '../compat/repr';

/** repr(float): the shortest digits that round-trip, exponent form outside 1e-4 <= |x| < 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without digits gives the shortest round-tripping digits, as repr does.
  const [mantissa, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const decpt = Number(exp) + 1;
  if (decpt <= -4 || decpt > 16) {
    const e = decpt - 1;
    const frac = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${frac}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

function numberStr(x: number): string {
  return Number.isSafeInteger(x) ? String(x) : pyFloatRepr(x);
}

/** Python's repr() of a value inside a list or dict. */
function reprOf(value: unknown): string {
  return typeof value === 'string' ? pyRepr(value) : pyStr(value);
}

/** Python's str() of a JSON-shaped value. */
export function pyStr(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
      return numberStr(value);
    case 'bigint':
      return value.toString();
    case 'undefined':
      return 'None';
    case 'object': {
      if (value === null) return 'None';
      if (Array.isArray(value)) return `[${value.map(reprOf).join(', ')}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) parts.push(`${pyRepr(k)}: ${reprOf(v)}`);
      return `{${parts.join(', ')}}`;
    }
    default:
      return String(value);
  }
}

/** Python's truth value (`if value:`) of a JSON-shaped value. */
export function pyTruthy(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value !== '';
  if (typeof value === 'number') return value !== 0; // nan is true in Python too
  if (typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value !== 0n;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}
