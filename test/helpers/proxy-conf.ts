/**
 * proxy-server.conf text for tests: one `[filter:<name>]` section per pipeline element, each
 * `use = egg:swift#<egg>` unless the test gives the section's lines (a `use =` or
 * `paste.filter_factory =` line among them replaces the default one).
 */

/** Section names of Swift's sample config whose egg differs from the name. */
const EGGS: Record<string, string> = { cache: 'memcache' };

export interface ProxyConfOptions {
  /** The pipeline's filters in order, without the final proxy-server. */
  pipeline: string[];
  /** Extra (or replacing) lines per filter section. */
  sections?: Record<string, string>;
  /** Extra lines of [app:proxy-server]. */
  app?: string;
  /** Lines of [DEFAULT]. */
  defaults?: string;
}

export function proxyConf(opts: ProxyConfOptions): string {
  const out = [`[DEFAULT]\n${opts.defaults ?? 'bind_ip = 127.0.0.1'}\n`, `[pipeline:main]\npipeline = ${opts.pipeline.join(' ')} proxy-server\n`];
  out.push(`[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\nallow_account_management = true\n${opts.app ?? ''}\n`);
  for (const name of new Set(opts.pipeline)) {
    const given = opts.sections?.[name] ?? '';
    const replacesUse = /^\s*(use|paste\.filter_factory)\s*=/m.test(given);
    const use = replacesUse ? '' : `use = egg:swift#${EGGS[name] ?? name.replace(/-/g, '_')}\n`;
    out.push(`[filter:${name}]\n${use}${given}\n`);
  }
  return out.join('\n');
}
