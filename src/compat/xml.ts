/**
 * XML escaping as Python's ElementTree serialises what Swift writes (listings; bulk's results
 * use xml.sax.saxutils.escape, which escapes text the same way).
 */

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const ATTR_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#09;' };

/** Character data: `&`, `<` and `>`. */
export function escapeXmlText(s: string): string {
  return s.replace(/[&<>]/g, (c) => TEXT_ESCAPES[c]!);
}

/** A double-quoted attribute value: also `"` and the whitespace controls, which a parser would normalise. */
export function escapeXmlAttr(s: string): string {
  return s.replace(/[&<>"\n\r\t]/g, (c) => ATTR_ESCAPES[c]!);
}
