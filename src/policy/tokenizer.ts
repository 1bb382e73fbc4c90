/**
 * The policy language's tokens, cut the way oslo.policy's `_parse_tokenize` cuts them, with the
 * offset of each in the rule text:
 *
 *   - words are separated by Python whitespace (the `\s` of `re`, see src/compat/py-whitespace),
 *     never by parentheses: `(role:a` is `(` then `role:a`, and only the parentheses at the very
 *     start or end of a word are split off, so `%(name)s` inside a check stays whole;
 *   - `and`, `or`, `not` in any case are operators;
 *   - a word (once its leading parentheses are gone) that starts and ends with the same quote is a
 *     quoted string, which is no check at all: oslo.policy's parser can never reduce it, so the
 *     whole rule fails. The test is made before the trailing parentheses are split off, so
 *     `'x')` is a check word `'x'`, not a string.
 */
import { isPySpace } from '../compat/py-whitespace';

export type TokenType = '(' | ')' | 'and' | 'or' | 'not' | 'check' | 'string';

export interface Token {
  readonly type: TokenType;
  /** The token as written (a check's whole `kind:match`, a string with its quotes). */
  readonly text: string;
  /** Offset of its first character in the rule text. */
  readonly start: number;
  /** Offset just past its last character. */
  readonly end: number;
}

const OPERATORS: ReadonlySet<string> = new Set(['and', 'or', 'not']);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && isPySpace(text[i]!)) i++;
    if (i >= n) break;
    const wordStart = i;
    while (i < n && !isPySpace(text[i]!)) i++;
    const word = text.slice(wordStart, i);

    let lead = 0;
    while (lead < word.length && word[lead] === '(') {
      tokens.push({ type: '(', text: '(', start: wordStart + lead, end: wordStart + lead + 1 });
      lead++;
    }
    if (lead === word.length) continue;
    const body = word.slice(lead);
    const bodyStart = wordStart + lead;
    let cut = body.length;
    while (cut > 0 && body[cut - 1] === ')') cut--;
    const clean = body.slice(0, cut);

    if (clean !== '') {
      const lowered = clean.toLowerCase();
      const first = body[0];
      if (OPERATORS.has(lowered)) {
        tokens.push({ type: lowered as TokenType, text: clean, start: bodyStart, end: bodyStart + cut });
      } else if (body.length >= 2 && (first === '"' || first === "'") && body[body.length - 1] === first) {
        tokens.push({ type: 'string', text: body, start: bodyStart, end: bodyStart + body.length });
        continue; // a quoted word ends with its quote: no trailing parentheses to split off
      } else {
        tokens.push({ type: 'check', text: clean, start: bodyStart, end: bodyStart + cut });
      }
    }
    for (let p = cut; p < body.length; p++) tokens.push({ type: ')', text: ')', start: bodyStart + p, end: bodyStart + p + 1 });
  }
  return tokens;
}
