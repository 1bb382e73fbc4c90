/**
 * Python's strip() with no argument, which differs between str and bytes: str.strip() removes
 * what str.isspace() calls whitespace (JS's \s differs: it has U+FEFF and lacks 0x1c-0x1f and
 * 0x85), bytes.strip() only the ASCII whitespace bytes.
 */
import type { ByteString } from './bytes';

const STR_WS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const STR_STRIP = new RegExp(`^[${STR_WS}]+|[${STR_WS}]+$`, 'g');
const BYTES_STRIP = /^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g;

/** str.strip() */
export function pyStrip(text: string): string {
  return text.replace(STR_STRIP, '');
}

/** bytes.strip() on a byte string. */
export function pyStripBytes(bytes: ByteString): ByteString {
  return bytes.replace(BYTES_STRIP, '') as ByteString;
}
