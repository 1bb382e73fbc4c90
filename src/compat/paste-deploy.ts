/**
 * How PasteDeploy (paste/deploy/loadwsgi.py, as Swift 2.30 runs it) turns a parsed
 * proxy-server.conf into the configuration of each application and filter:
 *
 *   - A name is looked up in the section of its type: a filter `x` in `[filter:x]` (the text
 *     after the colon is stripped), an application in `[app:x]` or `[application:x]` (also
 *     `[pipeline:x]`, `[composite:x]`, `[filter-app:x]`, which sluice does not support except
 *     `[pipeline:main]`). No section, or two, is an error.
 *   - What the section is comes from `use` (`egg:swift#tempauth`, `call:module:function`, or
 *     the name of another section of the same type, whose options it then extends) or from an
 *     explicit factory (`paste.filter_factory = module:filter_factory`, `paste.app_factory`); a
 *     section with neither is refused ("No loader given in section"). The section's name is
 *     free.
 *   - Every object gets the global conf ([DEFAULT], interpolated, plus what the caller passes)
 *     and its local conf: the section's options except those [DEFAULT] also sets, which are
 *     silently dropped (the [DEFAULT] value wins). `set name = value` overrides a global value
 *     for this object (and, in `[pipeline:main]`, for everything in the pipeline);
 *     `get name = global_name` copies a global value into the local conf. The factory sees
 *     global over local, i.e. `{...global, ...local}`.
 *   - Values are interpolated with Swift's NicerInterpolation (Swift's NamedConfigLoader puts it
 *     in place of PasteDeploy's own), against the section over the raw [DEFAULT].
 *   - `[pipeline:main]` holds `pipeline` and nothing else but `set`/`get` lines.
 */
import { ConfigError, where } from './config-error';
import { getOption, type ConfigDocument } from './config-parser';
import { pyStrip, pySplit } from './py-whitespace';
import { OTHER_EGG_FILTERS, OTHER_FILTER_FACTORIES, SWIFT_APPS, SWIFT_FILTERS } from './swift-entry-points';

export type PasteType = 'app' | 'filter';

export interface PasteContext {
  /** The section it was configured in (`filter:proxy-logging`), or the spec for a pipeline entry like `egg:swift#healthcheck`. */
  section: string;
  /** The distribution of its entry point: `swift`, `sluice`, or the module of an explicit factory. */
  dist: string;
  /** The entry point name (`proxy_logging`, `proxy`, `authtoken`). */
  entryPoint: string;
  globalConf: Map<string, string>;
  localConf: Map<string, string>;
  /** Options the section writes that PasteDeploy drops because [DEFAULT] sets them (only `set name = ...` overrides a default). */
  shadowed: string[];
}

export interface PastePipeline {
  /** The pipeline as written. */
  names: string[];
  app: PasteContext;
  /** One per filter name, in pipeline order. */
  filters: PasteContext[];
  /** The pipeline's global conf: what a filter added without a section gets (Swift's create_filter). */
  globalConf: Map<string, string>;
}

/** loadwsgi's _App.config_prefixes / _Filter.config_prefixes: groups of equivalent prefixes. */
const PREFIXES: Record<PasteType, string[][]> = {
  app: [['app', 'application'], ['composite', 'composit'], ['pipeline'], ['filter-app']],
  filter: [['filter']],
};

/** loadwsgi's egg_protocols: the explicit factory keys, grouped as PasteDeploy groups them. */
const PROTOCOLS: Record<PasteType, string[][]> = {
  app: [['paste.app_factory'], ['paste.composite_factory'], ['paste.composit_factory']],
  filter: [['paste.filter_factory', 'paste.filter_app_factory']],
};

/** Keys that say what a section is; never options of the object itself. */
export const LOADER_KEYS: readonly string[] = ['use', ...Object.values(PROTOCOLS).flat(2)];

function sectionType(section: string): string {
  const colon = section.indexOf(':');
  return colon < 0 ? section : section.slice(0, colon);
}

export class PasteLoader {
  constructor(
    readonly doc: ConfigDocument,
    readonly source: string,
  ) {}

  private fail(message: string, section?: string): never {
    const origin = section === undefined ? undefined : this.doc.origin(section);
    const source = origin?.source ?? this.source;
    throw new ConfigError(`${where(source, origin?.line)}${message}`, { kind: 'paste', source, line: origin?.line });
  }

  /** NicerConfigParser.defaults(): each [DEFAULT] value interpolated (an empty result keeps the raw value). */
  defaults(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [key, raw] of this.doc.defaults) out.set(key, getOption(this.doc, 'DEFAULT', key, 'swift') || raw);
    return out;
  }

  /** ConfigLoader.update_defaults: adds raw defaults (without `overwrite`, only missing ones). */
  updateDefaults(values: ReadonlyMap<string, string>, overwrite: boolean): void {
    for (const [key, value] of values) if (overwrite || !this.doc.defaults.has(key)) this.doc.defaults.set(key, value);
  }

  /** ConfigLoader.find_config_section. `name` undefined is PasteDeploy's "main" (a bare `[app]` counts too). */
  findSection(type: PasteType, name: string | undefined): string {
    const sections = this.doc.sectionNames();
    const found: string[] = [];
    const wanted = name ?? 'main';
    for (const group of PREFIXES[type]) {
      for (const prefix of group) {
        const here: string[] = [];
        if (name === undefined && sections.includes(prefix)) here.push(prefix);
        for (const s of sections) if (s.startsWith(`${prefix}:`) && pyStrip(s.slice(prefix.length + 1)) === wanted) here.push(s);
        if (here.length) {
          found.push(...here);
          break;
        }
      }
    }
    const prefixes = PREFIXES[type].flat().map((p) => `[${p}:${wanted}]`);
    if (found.length === 0) this.fail(`no section ${prefixes.join(' or ')} for ${type} ${JSON.stringify(wanted)}`);
    if (found.length > 1) this.fail(`ambiguous sections ${found.map((s) => `[${s}]`).join(', ')} for ${type} ${JSON.stringify(wanted)}`);
    return found[0]!;
  }

  /** The section's options, then the [DEFAULT] ones it does not set (ConfigParser.options). */
  private options(section: string): string[] {
    const own = [...(this.doc.sections.get(section)?.keys() ?? [])];
    return [...own, ...[...this.doc.defaults.keys()].filter((k) => !own.includes(k))];
  }

  private value(section: string, option: string): string {
    return getOption(this.doc, section, option, 'swift')!;
  }

  /** ConfigLoader.get_context for an application or filter `name`. */
  context(type: PasteType, name: string, globalConf?: ReadonlyMap<string, string>, seen: string[] = []): PasteContext {
    if (/^[a-zA-Z]+:/.test(name)) return this.fromSpec(type, name, seen[seen.length - 1], new Map(globalConf ?? []));
    const section = this.findSection(type, name);
    if (seen.includes(section)) this.fail(`[${section}] uses itself (${[...seen, section].map((s) => `[${s}]`).join(' -> ')})`, section);
    const kind = sectionType(section);
    if (kind === 'pipeline') this.fail(`[${section}]: sluice reads only [pipeline:main] as a pipeline`, section);
    if (kind === 'composite' || kind === 'composit' || kind === 'filter-app') this.fail(`[${section}]: sluice does not support [${kind}:...] sections`, section);
    const { global, local, additions, shadowed } = this.split(section, globalConf);
    if (local.has('filter-with') || local.has('require')) this.fail(`[${section}]: sluice does not support ${local.has('filter-with') ? 'filter-with' : 'require'}`, section);
    const use = local.get('use');
    if (use !== undefined) {
      local.delete('use');
      const inner = this.context(type, use, global, [...seen, section]);
      for (const [k, v] of additions) inner.globalConf.set(k, v);
      for (const [k, v] of local) inner.localConf.set(k, v);
      return { ...inner, section, shadowed: [...new Set([...inner.shadowed, ...shadowed])] };
    }
    const possible: [string, string][] = [];
    for (const group of PROTOCOLS[type]) {
      const key = group.find((p) => local.has(p));
      if (key) possible.push([key, local.get(key)!]);
    }
    if (possible.length > 1) this.fail(`[${section}] names more than one factory: ${possible.map(([k]) => k).join(', ')}`, section);
    if (possible.length === 0) this.fail(`[${section}] says neither what it is (use = egg:swift#<name>) nor its factory (paste.${type}_factory = <module>:${type}_factory)`, section);
    const [protocol, expr] = possible[0]!;
    local.delete(protocol);
    const { dist, entryPoint } = this.fromFactory(type, expr, section);
    return { section, dist, entryPoint, globalConf: global, localConf: local, shadowed };
  }

  /** get_context's walk over a section's options: global conf, local conf, `set` and `get`. */
  private split(section: string, passed: ReadonlyMap<string, string> | undefined) {
    const defaults = this.defaults();
    const global = new Map(defaults);
    for (const [k, v] of passed ?? []) global.set(k, v);
    const local = new Map<string, string>();
    const additions = new Map<string, string>();
    const fromGlobal = new Map<string, string>();
    const shadowed: string[] = [];
    const own = this.doc.sections.get(section);
    for (const option of this.options(section)) {
      if (option.startsWith('set ')) {
        const name = pyStrip(option.slice(4));
        const v = this.value(section, option);
        additions.set(name, v);
        global.set(name, v);
      } else if (option.startsWith('get ')) {
        fromGlobal.set(pyStrip(option.slice(4)), this.value(section, option));
      } else if (defaults.has(option)) {
        if (own?.has(option)) shadowed.push(option);
      } else {
        local.set(option, this.value(section, option));
      }
    }
    for (const [localName, globalName] of fromGlobal) {
      const v = global.get(globalName);
      if (v === undefined) this.fail(`[${section}] get ${localName} = ${globalName}: there is no global option ${JSON.stringify(globalName)}`, section);
      local.set(localName, v);
    }
    return { global, local, additions, shadowed };
  }

  /** loadcontext for `egg:<dist>#<name>` and `call:<module>:<function>`; `origin` is the section that wrote it. */
  private fromSpec(type: PasteType, spec: string, origin: string | undefined, globalConf: Map<string, string>): PasteContext {
    let uri = spec;
    let name = 'main';
    const hash = uri.indexOf('#');
    if (hash >= 0) {
      name = uri.slice(hash + 1);
      uri = uri.slice(0, hash);
    }
    const colon = uri.indexOf(':');
    const scheme = uri.slice(0, colon).toLowerCase();
    const path = uri.slice(colon + 1);
    const base = { section: spec, globalConf, localConf: new Map<string, string>(), shadowed: [] };
    if (scheme === 'egg') {
      const dist = path.toLowerCase();
      // Whether sluice has that entry point is for the pipeline builder to say (it knows what
      // is registered), as PasteDeploy's own lookup would refuse it at start-up.
      if (dist === 'sluice' || dist === 'swift') return { ...base, dist, entryPoint: name };
      const other = type === 'filter' ? OTHER_EGG_FILTERS[dist]?.[name] : undefined;
      if (other) return { ...base, dist, entryPoint: other };
      this.fail(`${origin ? `[${origin}] ` : ''}${JSON.stringify(spec)}: sluice loads only egg:swift#<name>, egg:sluice#<name> and egg:keystonemiddleware#auth_token`, origin);
    }
    if (scheme === 'call') return { ...base, ...this.fromFactory(type, path, origin) };
    return this.fail(`${origin ? `[${origin}] ` : ''}${JSON.stringify(spec)}: sluice does not support ${scheme}: loaders`, origin);
  }

  /** An explicit factory (`swift.common.middleware.tempauth:filter_factory`) as the egg name it is registered under. */
  private fromFactory(type: PasteType, expr: string, section: string | undefined): { dist: string; entryPoint: string } {
    const [module = '', attr = ''] = expr.split(':').map((s) => pyStrip(s));
    const table = type === 'app' ? SWIFT_APPS : SWIFT_FILTERS;
    const swiftName = attr === `${type}_factory` ? Object.keys(table).find((k) => table[k] === module) : undefined;
    if (swiftName) return { dist: 'swift', entryPoint: swiftName };
    const other = type === 'filter' ? OTHER_FILTER_FACTORIES[`${module}:${attr}`] : undefined;
    if (other) return { dist: module, entryPoint: other };
    return this.fail(`${section ? `[${section}] ` : ''}sluice has nothing for the factory ${JSON.stringify(expr)}`, section);
  }

  /** loadapp's view of `[pipeline:main]`: the pipeline, its application and its filters. */
  pipeline(globalConf?: ReadonlyMap<string, string>): PastePipeline {
    if (globalConf) this.updateDefaults(globalConf, false);
    const section = this.findSection('app', undefined);
    if (sectionType(section) !== 'pipeline') this.fail(`sluice needs a [pipeline:main] section; the main application is [${section}]`, section);
    const { global, local } = this.split(section, globalConf);
    const text = local.get('pipeline');
    if (text === undefined) this.fail(`[${section}] has no pipeline setting`, section);
    local.delete('pipeline');
    if (local.size) this.fail(`[${section}] may hold only pipeline (and set/get lines), not ${[...local.keys()].join(', ')}`, section);
    const names = pySplit(text);
    if (names.length === 0) this.fail(`[${section}] pipeline is empty`, section);
    const app = this.context('app', names[names.length - 1]!, global);
    const filters = names.slice(0, -1).map((n) => this.context('filter', n, global));
    return { names, app, filters, globalConf: global };
  }
}

/** What the factory is given: `global_conf` updated with `local_conf`. */
export function effectiveConf(ctx: PasteContext): Map<string, string> {
  const out = new Map(ctx.globalConf);
  for (const [k, v] of ctx.localConf) out.set(k, v);
  return out;
}
