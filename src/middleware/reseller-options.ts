/**
 * Reseller prefixes and the options tied to each, read as Swift's utils
 * config_read_reseller_options does for tempauth (`require_group`) and keystoneauth
 * (`operator_roles`, `service_roles`, `project_reader_roles`): an option without a prefix
 * applies to every prefix, `<PREFIX>_<option>` (or `''<option>` for the empty prefix) to one.
 */
import type { Section } from '../proxy/config';

/** Option name → default: a string, or a list for comma-separated (lower-cased) values. */
export type ResellerOptionDefaults = Record<string, string | readonly string[]>;

export type ResellerOptionValues<D extends ResellerOptionDefaults> = {
  [K in keyof D]: D[K] extends string ? string : string[];
};

export interface ResellerOptions<D extends ResellerOptionDefaults> {
  /** Prefixes with `_` appended (the empty prefix stays ''), in configured order; never empty. */
  prefixes: string[];
  /** The options of each prefix. */
  options: Map<string, ResellerOptionValues<D>>;
}

function appendUnderscore(prefix: string): string {
  return prefix && !prefix.endsWith('_') ? `${prefix}_` : prefix;
}

/** config_read_prefixed_options: only non-empty values count; lists are lower-cased and split on commas. */
function readPrefixed<D extends ResellerOptionDefaults>(conf: Section, prefixName: string, defaults: D): Partial<ResellerOptionValues<D>> {
  const out: Record<string, string | string[]> = {};
  for (const [name, dflt] of Object.entries(defaults)) {
    const value = conf[`${prefixName}${name}`];
    if (!value) continue;
    out[name] = typeof dflt === 'string' ? value.trim() : value.toLowerCase().split(',').map((r) => r.trim());
  }
  return out as Partial<ResellerOptionValues<D>>;
}

export function readResellerOptions<D extends ResellerOptionDefaults>(conf: Section, defaults: D): ResellerOptions<D> {
  const prefixes: string[] = [];
  for (const raw of (conf.reseller_prefix ?? 'AUTH').split(',')) {
    let p = raw.trim();
    if (!p) continue;
    if (p === "''") p = '';
    p = appendUnderscore(p);
    if (!prefixes.includes(p)) prefixes.push(p);
  }
  if (prefixes.length === 0) prefixes.push('');
  const options = new Map<string, ResellerOptionValues<D>>();
  for (const p of prefixes) {
    const base = Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, typeof v === 'string' ? v : [...v]])) as ResellerOptionValues<D>;
    options.set(p, { ...base, ...readPrefixed(conf, '', defaults), ...readPrefixed(conf, p === '' ? "''" : p, defaults) });
  }
  return { prefixes, options };
}

/** _get_account_prefix: the first non-empty prefix the account starts with, else '' if configured. */
export function accountPrefixOf(prefixes: readonly string[], account: string): string | undefined {
  for (const p of prefixes) if (p !== '' && account.startsWith(p)) return p;
  return prefixes.includes('') ? '' : undefined;
}
