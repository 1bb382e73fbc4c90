/**
 * proxy-server.conf, in Swift's paste-deploy INI layout:
 *
 *   [DEFAULT]            bind_ip, bind_port, workers, swift_dir, ...
 *   [pipeline:main]      pipeline = catch_errors gatekeeper ... proxy-server
 *   [app:proxy-server]   the proxy application's options
 *   [filter:<name>]      each middleware's options (with `use = egg:swift#<name>`)
 *
 * As in paste-deploy, every section sees the [DEFAULT] values, and its own values win.
 * With no file, sluice starts with the defaults below.
 */
import { readFileSync } from 'node:fs';
import { parse as parseIni } from 'ini';
import { configTrue } from '../common/swift-conf';

export type Section = Record<string, string>;

export interface ProxyConfig {
  source: string;
  defaults: Section;
  pipeline: string[];
  /** Options of `[app:proxy-server]` merged over [DEFAULT]. */
  app: Section;
  /** Options of each `[filter:<name>]` named in the pipeline, merged over [DEFAULT]. */
  filters: Record<string, Section>;
}

export const DEFAULT_PIPELINE = 'catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempauth proxy-logging proxy-server';

export class ConfigError extends Error {}

function stringify(section: Record<string, unknown> | undefined): Section {
  const out: Section = {};
  for (const [k, v] of Object.entries(section ?? {})) {
    if (v !== null && typeof v === 'object') continue; // nested sections from dotted names
    out[k] = v === true ? 'true' : v === false ? 'false' : String(v);
  }
  return out;
}

/** Parses proxy-server.conf text. The last pipeline element must be the app. */
export function parseProxyConfig(text: string, source = 'proxy-server.conf'): ProxyConfig {
  const ini = parseIni(text) as Record<string, Record<string, unknown>>;
  const defaults = stringify(ini.DEFAULT);
  const pipelineText = stringify(ini['pipeline:main']).pipeline ?? DEFAULT_PIPELINE;
  const pipeline = pipelineText.split(/\s+/).filter(Boolean);
  const appName = pipeline[pipeline.length - 1];
  if (!appName) throw new ConfigError(`${source}: [pipeline:main] pipeline is empty`);
  const appSection = ini[`app:${appName}`];
  if (appSection === undefined && text.trim() !== '' && ini['pipeline:main'] !== undefined) {
    throw new ConfigError(`${source}: pipeline ends with "${appName}" but there is no [app:${appName}] section`);
  }
  const filters: Record<string, Section> = {};
  for (const name of pipeline.slice(0, -1)) {
    const sec = ini[`filter:${name}`];
    if (sec === undefined && ini['pipeline:main'] !== undefined) {
      throw new ConfigError(`${source}: pipeline names filter "${name}" but there is no [filter:${name}] section`);
    }
    filters[name] = { ...defaults, ...stringify(sec) };
  }
  return { source, defaults, pipeline, app: { ...defaults, ...stringify(appSection) }, filters };
}

export function loadProxyConfig(path?: string): ProxyConfig {
  if (!path) return parseProxyConfig('', '(defaults)');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseProxyConfig(text, path);
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
