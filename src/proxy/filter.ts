/**
 * The one shape of a pipeline filter, and the registry the pipeline builder picks filters from.
 *
 * A filter is defined as Hono defines `cors(options)`: typed options first, then a middleware
 * made from them. `options` reads the filter's config section (Swift's filter_factory(conf));
 * `info` returns the `/info` sections the filter registers (Swift's register_swift_info, kept
 * beside the filter it describes); `create` makes the middleware and may return a `close` that
 * the proxy runs on shutdown. Filters are found by their egg name, as PasteDeploy finds
 * `use = egg:swift#<name>`: built-in ones are registered by src/middleware/index.ts, and an
 * operator's package can add its own with registerFilter.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { ProxyEnv } from './context';
import type { Section } from './config';
import type { ProxyState } from './state';
import type { Subrequest } from './subrequest';

export interface FilterContext {
  state: ProxyState;
  logger: Logger;
  accessLogger: Logger;
  /** Runs subrequests through the filters after this one and the proxy application (Swift's `self.app`). */
  app: Subrequest;
  /**
   * Runs `check` once every filter of the pipeline is built, for a filter that needs another
   * after it (object versioning needs symlink); a ConfigError it throws stops the start-up.
   */
  whenBuilt?(check: () => void): void;
}

/** What `create` may return when the filter holds resources (files, databases, timers). */
export interface FilterInstance {
  handler: MiddlewareHandler<ProxyEnv>;
  close(): void | Promise<void>;
}

export type InfoSections = Record<string, Record<string, unknown>>;

export interface FilterDefinition<Options> {
  /** The egg name (`use = egg:swift#<name>`), with `_` where Swift's entry point has one. */
  readonly name: string;
  /** Typed options from the filter's section ([DEFAULT] included); throws ConfigError when invalid. */
  options(conf: Section): Options;
  /** The /info sections this filter registers, from its options. */
  info?(options: Options): InfoSections;
  create(options: Options, ctx: FilterContext): MiddlewareHandler<ProxyEnv> | FilterInstance;
}

/** A filter made from its section: what the pipeline builder keeps. */
export interface BuiltFilter {
  handler: MiddlewareHandler<ProxyEnv>;
  info: InfoSections;
  close?: () => void | Promise<void>;
}

/** A registered filter, its options type erased behind `build`. */
export interface RegisteredFilter {
  readonly name: string;
  build(conf: Section, ctx: FilterContext): BuiltFilter;
}

export function defineFilter<Options>(definition: FilterDefinition<Options>): FilterDefinition<Options> {
  return definition;
}

/** Egg names as written in configs and pipelines: `proxy-logging` and `proxy_logging` are one. */
export function filterName(name: string): string {
  return name.replace(/-/g, '_');
}

function erase<Options>(definition: FilterDefinition<Options>): RegisteredFilter {
  return {
    name: filterName(definition.name),
    build(conf, ctx) {
      const options = definition.options(conf);
      const made = definition.create(options, ctx);
      const info = definition.info?.(options) ?? {};
      return typeof made === 'function' ? { handler: made, info } : { handler: made.handler, info, close: () => made.close() };
    },
  };
}

export class FilterRegistry {
  private readonly filters = new Map<string, RegisteredFilter>();

  register<Options>(definition: FilterDefinition<Options>): void {
    const registered = erase(definition);
    this.filters.set(registered.name, registered);
  }

  get(name: string): RegisteredFilter | undefined {
    return this.filters.get(filterName(name));
  }

  names(): string[] {
    return [...this.filters.keys()].sort();
  }
}

/** The registry the proxy builds pipelines from unless it is given another. */
export const filterRegistry = new FilterRegistry();

/** Adds a filter (or replaces one of the same egg name) for every proxy built afterwards. */
export function registerFilter<Options>(definition: FilterDefinition<Options>): void {
  filterRegistry.register(definition);
}
