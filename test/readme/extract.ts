/**
 * Pulls the runnable walkthroughs out of README.md. A walkthrough is a fenced ```sh block right
 * after a `<!-- readme-test: NAME -->` marker. Inside it:
 *   - a line that is neither blank nor a comment starts a command (a trailing `\` continues it);
 *   - `#> text` lines right after a command are what it prints on stdout, one line each, where
 *     `...` matches any text; a command with none must print nothing;
 *   - other `#` lines are prose for the reader.
 */

export interface Step {
  section: string;
  /** 1-based README line of the command's first line. */
  line: number;
  command: string;
  expected: string[];
}

const MARKER = /^<!--\s*readme-test:\s*([\w-]+)\s*-->\s*$/;

export function extractSteps(markdown: string): Step[] {
  const lines = markdown.split('\n');
  const steps: Step[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i]!);
    if (!m) continue;
    const section = m[1]!;
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    if (lines[j] !== '```sh') throw new Error(`README line ${i + 1}: marker "${section}" is not followed by a \`\`\`sh block`);
    let current: Step | undefined;
    let closed = false;
    for (j++; j < lines.length; j++) {
      const text = lines[j]!;
      if (text === '```') {
        closed = true;
        break;
      }
      if (text.startsWith('#>')) {
        if (!current) throw new Error(`README line ${j + 1}: expected output with no command before it`);
        current.expected.push(text.slice(2).replace(/^ /, ''));
        continue;
      }
      // Anything else ends the expected-output run of the command before it.
      if (current) {
        steps.push(current);
        current = undefined;
      }
      if (text.trim() === '' || text.trimStart().startsWith('#')) continue;
      const start = j;
      let command = text;
      while (command.endsWith('\\') && j + 1 < lines.length) command = `${command.slice(0, -1)}\n${lines[++j]!}`;
      current = { section, line: start + 1, command, expected: [] };
    }
    if (current) steps.push(current);
    if (!closed) throw new Error(`README line ${i + 1}: the "${section}" block is not closed`);
    i = j;
  }
  return steps;
}

/** stdout as lines, without the final newline, carriage returns (HTTP headers) or trailing blanks. */
export function outputLines(stdout: string): string[] {
  const lines = stdout.split('\n').map((l) => l.replace(/\s+$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Whether `actual` matches the expected lines, `...` matching any text within a line. */
export function matchesExpected(actual: string[], expected: string[]): boolean {
  if (actual.length !== expected.length) return false;
  return expected.every((want, k) => {
    const pattern = want
      .replace(/\s+$/, '')
      .split('...')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    return new RegExp(`^${pattern}$`, 's').test(actual[k]!);
  });
}
