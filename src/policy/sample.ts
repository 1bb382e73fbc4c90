/**
 * A policy's defaults written out as oslo.policy's `oslopolicy-sample-generator --format yaml`
 * writes a service's: each rule's description wrapped at 70 columns as Python's textwrap wraps it,
 * the operations it governs, and its default commented out (or a policy file's override after it).
 */
import { pyLstrip, pyRstrip, pyStrip } from '../compat/py-whitespace';
import type { RuleDefault } from './policy';

const WS = String.raw`[\t\n\x0b\x0c\r ]`;
const NOT_WS = String.raw`[^\t\n\x0b\x0c\r ]`;
// Python's \w on str: letters, digits (any script) and "_".
const WORD = String.raw`[\p{L}\p{N}_]`;
const WORD_PUNCT = String.raw`[\p{L}\p{N}_!"'&.,?]`;
const LETTER = String.raw`(?:(?!\p{Nd})[\p{L}\p{N}_])`;
// TextWrapper.wordsep_re: whitespace runs, em-dashes, and words split after a hyphen between letters.
const WORDSEP = new RegExp(
  `(${WS}+|(?<=${WORD_PUNCT})-{2,}(?=${WORD})|${NOT_WS}+?(?:-(?:(?<=${LETTER}{2}-)|(?<=${LETTER}-${LETTER}-))(?=${LETTER}-?${LETTER})|(?=${WS}|$)|(?<=${WORD_PUNCT})(?=-{2,}${WORD})))`,
  'gu',
);

function expandTabs(text: string): string {
  let out = '';
  let column = 0;
  for (const ch of text) {
    if (ch === '\t') {
      const n = 8 - (column % 8);
      out += ' '.repeat(n);
      column += n;
    } else {
      out += ch;
      column = ch === '\n' || ch === '\r' ? 0 : column + 1;
    }
  }
  return out;
}

/** re.split with the capturing group, empty pieces dropped. */
function chunksOf(text: string): string[] {
  const out: string[] = [];
  let last = 0;
  for (const m of text.matchAll(WORDSEP)) {
    out.push(text.slice(last, m.index), m[1]!);
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out.filter((c) => c !== '');
}

/** Python's len(): code points. */
const pyLen = (s: string): number => [...s].length;

/**
 * Python's textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent) with its
 * other defaults (tabs expanded, whitespace made spaces, long words broken, breaks after hyphens),
 * as oslo.policy's generator wraps descriptions.
 */
export function textwrap(text: string, width: number, indent: string): string[] {
  const chunks = chunksOf(expandTabs(text).replace(/[\t\n\x0b\x0c\r]/g, ' ')).reverse();
  const lines: string[] = [];
  while (chunks.length > 0) {
    const line: string[] = [];
    let length = 0;
    const room = width - pyLen(indent);
    if (pyStrip(chunks[chunks.length - 1]!) === '' && lines.length > 0) chunks.pop();
    while (chunks.length > 0) {
      const n = pyLen(chunks[chunks.length - 1]!);
      if (length + n > room) break;
      line.push(chunks.pop()!);
      length += n;
    }
    if (chunks.length > 0 && pyLen(chunks[chunks.length - 1]!) > room) {
      // _handle_long_word: as much as fits, broken after the last hyphen that fits if there is one.
      const spaceLeft = room < 1 ? 1 : room - length;
      const chars = [...chunks[chunks.length - 1]!];
      let end = spaceLeft;
      if (chars.length > spaceLeft) {
        const hyphen = chars.slice(0, spaceLeft).lastIndexOf('-');
        if (hyphen > 0 && chars.slice(0, hyphen).some((c) => c !== '-')) end = hyphen + 1;
      }
      line.push(chars.slice(0, end).join(''));
      chunks[chunks.length - 1] = chars.slice(end).join('');
    }
    if (line.length > 0 && pyStrip(line[line.length - 1]!) === '') line.pop();
    if (line.length > 0) lines.push(indent + line.join(''));
  }
  return lines;
}

const PY_LINE_BREAK = /\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]/;

/** oslo.policy generator's _format_help_text: paragraphs wrapped at 70 as `# ` comments, indented lines kept. */
export function helpComment(description: string): string {
  if (!description) return '#';
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => out.push(...textwrap(paragraph.join(' '), 70, '# '));
  const text = pyStrip(description);
  for (const line of text === '' ? [] : text.split(PY_LINE_BREAK)) {
    if (pyStrip(line) === '') {
      flush();
      out.push('#');
      paragraph = [];
    } else if (pyLen(line) === pyLen(pyLstrip(line))) {
      paragraph.push(pyRstrip(line));
    } else {
      // A literal block (oslo.policy warns when no blank line comes before it).
      if (paragraph.length > 0) {
        flush();
        out.push('#');
        paragraph = [];
      }
      out.push(`# ${pyRstrip(line)}`);
    }
  }
  if (paragraph.length > 0) flush();
  return out.join('\n');
}

/**
 * `"name": "text"` with JSON's quoting, which is YAML's too: oslo.policy writes the text between
 * quotes as it is (the same for every default here, which holds no quote or backslash), and a rule
 * from a file may hold either. A file rule that is not text (the list-of-lists form) is written as
 * YAML flow, unquoted.
 */
export function ruleLine(name: string, value: unknown): string {
  return `${JSON.stringify(name)}: ${JSON.stringify(value) ?? 'null'}`;
}

/** One rule as oslopolicy-sample-generator --format yaml writes it: help, operations, the default commented out, a blank line. */
export function sampleRule(rule: RuleDefault, override?: { readonly value: unknown; readonly where: string }): string {
  let text = '';
  for (const op of rule.operations ?? []) if (op.method && op.path) text += `# ${op.method}  ${op.path}\n`;
  if (override !== undefined) text += `# ${override.where} overrides the default:\n`;
  text += `#${ruleLine(rule.name, rule.check)}\n`;
  if (override !== undefined) text += `${ruleLine(rule.name, override.value)}\n`;
  text += '\n';
  return rule.description ? `${helpComment(rule.description)}\n${text}` : text;
}
