/**
 * proxy-server.conf, in Swift's paste-deploy INI layout:
 *
 *   [DEFAULT]            bind_ip, bind_port, workers, swift_dir, ...
 *   [pipeline:main]      pipeline = catch_errors gatekeeper ... proxy-server
 *   [app:proxy-server]   use = egg:swift#proxy, and the proxy application's options
 *   [filter:<name>]      use = egg:swift#<egg name> (or paste.filter_factory = <module>:filter_factory),
 *                        and that middleware's options
 *
 * Read as Swift reads it: the text as Python's configparser reads it (src/compat/config-parser.ts:
 * `#` and `;` start comments only at the start of a line, `key: value`, continuation lines, keys
 * as written), then each section as PasteDeploy reads it (src/compat/paste-deploy.ts): what a
 * pipeline element is comes from its section's `use`, not its name; every section sees the
 * [DEFAULT] values, and an option [DEFAULT] also sets is dropped from the section (only
 * `set name = value` overrides a default, as Swift's sample configs say). `--config` may name a
 * conf.d directory, whose `*.conf` files are read in order as one.
 * With no file, sluice starts with the defaults below.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigDocument, readConfigDocument, toRecord } from '../compat/config-parser';
import { ConfigError } from '../compat/config-error';
import { effectiveConf, LOADER_KEYS, PasteLoader } from '../compat/paste-deploy';
import { configTrue } from '../compat/truthy';

export { ConfigError };

export type Section = Record<string, string>;

export interface ProxyConfig {
  source: string;
  /** The pipeline's global conf: [DEFAULT] interpolated, with `here`, `__file__` and `log_name` as Swift adds them. */
  defaults: Section;
  /** The pipeline as written in [pipeline:main]; the last element is the app. */
  pipeline: string[];
  /** What the proxy application gets: [DEFAULT] and its section (`{...global_conf, ...local_conf}`). */
  app: Section;
  /** The same for each filter of the pipeline, by the name the pipeline gives it. */
  filters: Record<string, Section>;
  /** Each pipeline element (as written) to the egg name its section names, `-` as `_` (`cache` -> `memcache`, `proxy-server` -> `proxy`). */
  uses: Record<string, string>;
  /** Options a pipeline element's section sets that are ignored because [DEFAULT] sets them too (Swift needs `set <name> = ...`). */
  shadowed: Record<string, string[]>;
}

export const DEFAULT_PIPELINE = 'catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempauth proxy-logging proxy-server';

/** The configuration of a proxy started without one: DEFAULT_PIPELINE, each section naming its egg. */
const BUILTIN_EGGS: Record<string, string> = {
  catch_errors: 'catch_errors',
  gatekeeper: 'gatekeeper',
  healthcheck: 'healthcheck',
  'proxy-logging': 'proxy_logging',
  cache: 'memcache',
  listing_formats: 'listing_formats',
  tempauth: 'tempauth',
};
const BUILTIN_CONF = [
  `[pipeline:main]\npipeline = ${DEFAULT_PIPELINE}`,
  '[app:proxy-server]\nuse = egg:swift#proxy',
  ...Object.entries(BUILTIN_EGGS).map(([section, egg]) => `[filter:${section}]\nuse = egg:swift#${egg}`),
].join('\n\n');

function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** PasteDeploy's `here` and `__file__` defaults for a file (ConfigLoader) or a conf.d directory (Swift's ConfigDirLoader). */
function fileDefaults(path: string, isDir: boolean): Record<string, string> {
  const abs = resolve(path);
  return { here: isDir ? abs : dirname(abs), __file__: abs };
}

function proxyDocument(defaults?: Record<string, string>): ConfigDocument {
  return new ConfigDocument({ optionCase: 'preserve', strict: true, defaults });
}

/** The pipeline, its app and its filters from a parsed proxy-server.conf, as Swift's run_wsgi loads them. */
export function proxyConfigFromDocument(doc: ConfigDocument, source: string): ProxyConfig {
  const paste = new PasteLoader(doc, source);
  // run_wsgi first reads the proxy's own options (appconfig(conf, name='proxy-server')), then
  // loads the pipeline with global_conf = {log_name: <that section's log_name or its name>}.
  const own = effectiveConf(paste.context('app', 'proxy-server'));
  const loaded = paste.pipeline(new Map([['log_name', own.get('log_name') ?? 'proxy-server']]));
  const uses: Record<string, string> = {};
  const filters: Record<string, Section> = {};
  const shadowed: Record<string, string[]> = {};
  const contexts = [...loaded.filters, loaded.app];
  loaded.names.forEach((name, i) => {
    const ctx = contexts[i]!;
    setOwn(uses, name, ctx.entryPoint.replace(/-/g, '_'));
    if (ctx.shadowed.length) setOwn(shadowed, name, ctx.shadowed);
    if (i < loaded.names.length - 1) setOwn(filters, name, toRecord(effectiveConf(ctx)));
  });
  return {
    source,
    defaults: toRecord(loaded.globalConf),
    pipeline: loaded.names,
    app: toRecord(effectiveConf(loaded.app)),
    filters,
    uses,
    shadowed,
  };
}

/**
 * Parses proxy-server.conf text. Text with no section at all (empty, or only comments) is the
 * built-in configuration above. `file` gives `%(here)s` and `%(__file__)s`, as PasteDeploy does.
 */
export function parseProxyConfig(text: string, source = 'proxy-server.conf', opts: { file?: string } = {}): ProxyConfig {
  const doc = proxyDocument(opts.file === undefined ? undefined : fileDefaults(opts.file, false));
  doc.read(text, source);
  if (doc.sections.size === 0 && [...doc.defaults.keys()].every((k) => k === 'here' || k === '__file__')) {
    const builtin = proxyDocument(opts.file === undefined ? undefined : fileDefaults(opts.file, false));
    builtin.read(BUILTIN_CONF, `${source} (built-in)`);
    return proxyConfigFromDocument(builtin, source);
  }
  return proxyConfigFromDocument(doc, source);
}

/** Reads proxy-server.conf, or a conf.d directory of `*.conf` files (Swift's config_dir loader). */
export function loadProxyConfig(path?: string): ProxyConfig {
  if (!path) return parseProxyConfig('', '(defaults)');
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, { kind: 'read', source: path });
  }
  const doc = readConfigDocument(path, { optionCase: 'preserve', strict: true, defaults: fileDefaults(path, isDir) });
  return proxyConfigFromDocument(doc, path);
}

export interface TrackedSection {
  /** The section, recording which options are read (`conf.x`, `conf[k]`, `'x' in conf`). */
  section: Section;
  /** Options nobody read, in the section's order, leaving out what [DEFAULT] supplies and `use` / `paste.*_factory`. */
  unread(): string[];
}

/**
 * Watches which options a filter reads, so unknown ones (typos, options sluice lacks) can be
 * logged once per section. Listing keys (`Object.keys`) reads none; copying the section
 * (`{...conf}`, `Object.entries`) reads them all.
 */
export function trackReads(section: Section, inherited: Section = {}): TrackedSection {
  const read = new Set<string>();
  const tracked = new Proxy(section, {
    get(target, key, receiver) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
    has(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.has(target, key);
    },
  });
  return {
    section: tracked,
    unread: () => Object.keys(section).filter((k) => !read.has(k) && !Object.hasOwn(inherited, k) && !LOADER_KEYS.includes(k)),
  };
}

/** Typed accessors with Swift's parsing rules and a clear error naming the option. */
export function intOption(section: Section, key: string, dflt: number): number {
  const raw = section[key];
  if (raw === undefined || raw.trim() === '') return dflt;
  const n = Number(raw.trim());
  if (!Number.isInteger(n)) throw new ConfigError(`${key} must be an integer, got ${JSON.stringify(raw)}`);
  return n;
}

export function floatOption(section: Section, key: string, dflt: number): number {
  const raw = section[key];
  if (raw === undefined || raw.trim() === '') return dflt;
  const n = Number(raw.trim());
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${key} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}

export function boolOption(section: Section, key: string, dflt: boolean): boolean {
  const raw = section[key];
  return raw === undefined ? dflt : configTrue(raw);
}

export function listOption(section: Section, key: string, dflt: string[] = []): string[] {
  const raw = section[key];
  if (raw === undefined) return dflt;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
