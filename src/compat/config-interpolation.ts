/**
 * `%(name)s` interpolation as Python's configparser does it when a value is read (never when the
 * file is parsed, so a bad reference only fails the option that is asked for):
 *
 *   - `basic`: configparser.BasicInterpolation, what a plain `ConfigParser()` uses (Swift's
 *     swift.conf readers). `%%` is a literal `%`; `%(name)s` is replaced by the option `name` of
 *     the same section or [DEFAULT], itself interpolated, at most MAX_INTERPOLATION_DEPTH deep;
 *     any other `%` is an error.
 *   - `swift`: Swift's NicerInterpolation (swift/common/utils.py, py3), used by readconf and, for
 *     proxy-server.conf, by PasteDeploy's parser once Swift's NamedConfigLoader swaps it in: a
 *     value without `%(` is returned as written (so `fallocate_reserve = 1%` works and `%%` stays
 *     two characters), anything else goes through `basic`. Values it pulls in through a
 *     reference are interpolated the `basic` way, as Python does.
 *   - `none`: RawConfigParser, values as written.
 */
import { ConfigError, where } from './config-error';

export type Interpolation = 'none' | 'basic' | 'swift';

/** configparser.MAX_INTERPOLATION_DEPTH */
export const MAX_INTERPOLATION_DEPTH = 10;

export interface InterpolationScope {
  /** The section being read, with [DEFAULT] under it: what `%(name)s` can refer to. */
  vars: ReadonlyMap<string, string>;
  /** The parser's optionxform: the name in `%(name)s` is looked up transformed. */
  optionKey: (name: string) => string;
  /** For error messages. */
  section: string;
  source?: string;
  line?: number;
}

const REFERENCE = /^%\(([^)]+)\)s/;

export function interpolate(option: string, value: string, scope: InterpolationScope, mode: Interpolation): string {
  if (mode === 'none') return value;
  if (mode === 'swift' && !value.includes('%(')) return value;
  const out: string[] = [];
  expand(option, value, scope, 1, out);
  return out.join('');
}

function fail(scope: InterpolationScope, kind: 'interpolation-syntax' | 'interpolation-missing-option' | 'interpolation-depth', message: string): never {
  throw new ConfigError(`${where(scope.source, scope.line)}[${scope.section}] ${message}`, { kind, source: scope.source, line: scope.line });
}

function expand(option: string, value: string, scope: InterpolationScope, depth: number, out: string[]): void {
  if (depth > MAX_INTERPOLATION_DEPTH) fail(scope, 'interpolation-depth', `${option}: references nested more than ${MAX_INTERPOLATION_DEPTH} deep (a loop?)`);
  let rest = value;
  while (rest !== '') {
    const p = rest.indexOf('%');
    if (p < 0) {
      out.push(rest);
      return;
    }
    if (p > 0) {
      out.push(rest.slice(0, p));
      rest = rest.slice(p);
    }
    const next = rest.charAt(1);
    if (next === '%') {
      out.push('%');
      rest = rest.slice(2);
    } else if (next === '(') {
      const m = REFERENCE.exec(rest);
      if (!m) fail(scope, 'interpolation-syntax', `${option}: bad interpolation variable reference ${JSON.stringify(rest)}`);
      const name = scope.optionKey(m[1]!);
      rest = rest.slice(m[0].length);
      const referenced = scope.vars.get(name);
      if (referenced === undefined) fail(scope, 'interpolation-missing-option', `${option}: %(${m[1]})s names no option (write %% for a literal %)`);
      if (referenced.includes('%')) expand(name, referenced, scope, depth + 1, out);
      else out.push(referenced);
    } else {
      fail(scope, 'interpolation-syntax', `${option}: '%' must be followed by '%' or '(', found ${JSON.stringify(rest)}`);
    }
  }
}
