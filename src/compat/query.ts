/**
 * Query strings as Swift reads them through Python's urllib.parse: parse_qsl / parse_qs on text
 * (UTF-8, invalid bytes replaced), on byte strings (`encoding='latin-1'`, what swob's
 * `req.params` uses), swob's params setter (urlencode) and Swift's get_param.
 *
 * Python's parsing: pairs split on `&` only; empty pairs skipped; `+` is a space; a name without
 * `=` (or with an empty value) is dropped unless keep_blank_values; malformed escapes stay literal.
 */
import { asByteString, isUtf8, textOf, type ByteString } from './bytes';
import { HttpException } from './http-exception';
import { quotePlusBytes, unquotePlus, unquotePlusBytes } from './quote';

function splitPairs(qs: string, keepBlankValues: boolean): [string, string][] {
  const out: [string, string][] = [];
  for (const pair of qs.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    if (eq < 0 && !keepBlankValues) continue;
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if (value || keepBlankValues) out.push([name, value]);
  }
  return out;
}

/** urllib.parse.parse_qsl(qs, keep_blank_values): decoded (name, value) pairs in order. */
export function parseQsl(qs: string, keepBlankValues = false): [string, string][] {
  return splitPairs(qs, keepBlankValues).map(([k, v]) => [unquotePlus(k), unquotePlus(v)]);
}

/** urllib.parse.parse_qs(qs, keep_blank_values): every value of each name, names in first-seen order. */
export function parseQs(qs: string, keepBlankValues = false): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of parseQsl(qs, keepBlankValues)) {
    const values = out.get(k);
    if (values) values.push(v);
    else out.set(k, [v]);
  }
  return out;
}

/** parse_qsl(qs, keep_blank_values, encoding='latin-1'): names and values as byte strings. */
export function parseQslBytes(qs: ByteString, keepBlankValues = false): [ByteString, ByteString][] {
  return splitPairs(qs, keepBlankValues).map(([k, v]) => [unquotePlusBytes(asByteString(k)), unquotePlusBytes(asByteString(v))]);
}

/**
 * swob's `req.params`: `dict(parse_qsl(QUERY_STRING, keep_blank_values=True, encoding='latin-1'))`,
 * so a repeated name keeps its last value. Names are byte strings too; look them up by their
 * ASCII names.
 */
export function swobParams(qs: ByteString): Map<string, ByteString> {
  return new Map(parseQslBytes(qs, true));
}

/**
 * swob's params setter: `urlencode(pairs, encoding='latin-1')`, each name and value quote_plus'd
 * over its bytes (names are byte strings as swobParams gives them, or ASCII).
 */
export function urlencode(pairs: Iterable<readonly [string, ByteString]>): ByteString {
  const parts: string[] = [];
  for (const [k, v] of pairs) parts.push(`${quotePlusBytes(asByteString(k))}=${quotePlusBytes(v)}`);
  return asByteString(parts.join('&'));
}

/**
 * Swift's get_param: a request parameter as UTF-8 text (undefined when absent); 400
 * `"<name>" parameter not valid UTF-8` (text/plain) when its bytes are not UTF-8.
 */
export function getParam(params: ReadonlyMap<string, ByteString>, name: string): string | undefined {
  const value = params.get(name);
  if (!value) return value;
  if (!isUtf8(value)) throw new HttpException(400, `"${name}" parameter not valid UTF-8`, {}, 'text/plain');
  return textOf(value, 'strict');
}
