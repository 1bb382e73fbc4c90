// The pipeline builder (src/proxy/pipeline.ts) and the filter shape (src/proxy/filter.ts):
// filters found by their section's `use`, Swift's required filters inserted, unknown filters
// and options reported, custom filters with typed options, /info sections and close hooks.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { FilterRegistry } from '../../src/proxy/filter';
import { effectivePipeline } from '../../src/proxy/pipeline';
// The custom filter below uses the public API, as the README's example does.
import { ConfigError, defineFilter, editResponseHeaders, registerFilter } from '../../src/index';
import { call } from './helpers';

/** A pino logger whose lines land in `lines`. */
function capturingLogger(lines: { level: number; msg: string }[]) {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

function conf(pipeline: string, sections: string): string {
  return `[DEFAULT]\nbind_ip = 127.0.0.1\n\n[pipeline:main]\npipeline = ${pipeline}\n\n[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n\n${sections}`;
}

const CACHE = '[filter:cache]\nuse = egg:swift#memcache\n';

describe('effectivePipeline (Swift required_filters)', () => {
  it('inserts catch_errors, gatekeeper, listing_formats, copy and versioned_writes where Swift does', () => {
    expect(effectivePipeline(['memcache', 'tempauth'])).toEqual(['catch_errors', 'gatekeeper', 'memcache', 'listing_formats', 'tempauth', 'copy', 'versioned_writes', 'cors']);
    expect(effectivePipeline(['proxy_logging', 'catch_errors', 'tempurl', 'tempauth', 'slo', 'proxy_logging'])).toEqual([
      'proxy_logging',
      'catch_errors',
      'gatekeeper',
      'listing_formats',
      'tempurl',
      'tempauth',
      'copy',
      'slo',
      'versioned_writes',
      'proxy_logging',
      'cors',
    ]);
  });

  it('keeps a pipeline that already has them as it is', () => {
    const full = ['catch_errors', 'gatekeeper', 'memcache', 'listing_formats', 'tempauth', 'copy', 'versioned_writes', 'cors'];
    expect(effectivePipeline(full)).toEqual(full);
  });
});

describe('pipeline filters', () => {
  const clusters: TestCluster[] = [];
  afterAll(async () => {
    for (const cl of clusters) await cl.stop();
  });
  async function cluster(proxyConfig: string, logger = pino({ level: 'silent' })): Promise<TestCluster> {
    const cl = await startCluster({ proxyConfig, logger });
    clusters.push(cl);
    return cl;
  }

  it('are chosen by the section\'s use or paste.filter_factory, whatever the section is called', async () => {
    const cl = await cluster(
      conf(
        'errors shared-cache auth proxy-server',
        '[filter:errors]\nuse = egg:swift#catch_errors\n\n[filter:shared-cache]\nuse = egg:swift#memcache\n\n' +
          '[filter:auth]\npaste.filter_factory = swift.common.middleware.tempauth:filter_factory\nuser_test_tester = testing .admin\n',
      ),
    );
    const auth = await call(cl.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' });
    expect(auth.status).toBe(200);
    expect(auth.headers['x-auth-token']).toMatch(/^AUTH_tk/);
    expect(auth.headers['x-trans-id']).toMatch(/^tx/);
    const listing = await call(cl.url, 'GET', '/v1/AUTH_test', { 'X-Auth-Token': String(auth.headers['x-auth-token']) });
    expect(listing.status).toBe(204);
  });

  it('refuse a filter sluice does not have, naming the section and its egg', async () => {
    await expect(startCluster({ proxyConfig: conf('catch_errors mystery proxy-server', '[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n[filter:mystery]\nuse = egg:swift#no_such_filter\n') })).rejects.toThrow(
      /unknown filter "mystery" \(egg:swift#no_such_filter\)/,
    );
  });

  it('refuse tempauth without the cache filter before it (Swift\'s TempAuth needs memcache)', async () => {
    const err = await startCluster({ proxyConfig: conf('catch_errors tempauth proxy-server', '[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n[filter:tempauth]\nuse = egg:swift#tempauth\nuser_a_b = c\n') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/tempauth needs the cache filter/);
  });

  it('log each unknown option once, naming the section', async () => {
    const lines: { level: number; msg: string }[] = [];
    await cluster(
      conf('catch_errors cache healthcheck proxy-server', `[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n${CACHE}\n[filter:healthcheck]\nuse = egg:swift#healthcheck\ndisable_path = /nonexistent\ndisable_pth = typo\n`),
      capturingLogger(lines),
    );
    const warnings = lines.filter((l) => /unknown option/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/\[filter:healthcheck\] ignores unknown option disable_pth$/);
    expect(warnings[0]!.level).toBe(40);
  });

  it('log unknown options of the proxy application too, and not the ones it reads', async () => {
    const lines: { level: number; msg: string }[] = [];
    const text = conf('catch_errors cache healthcheck proxy-server', `[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n${CACHE}\n[filter:healthcheck]\nuse = egg:swift#healthcheck\n`).replace(
      'account_autocreate = true\n',
      'account_autocreate = true\nnode_timeout = 5\nnode_timout = 5\nrecheck_account_existence = 30\n',
    );
    await cluster(text, capturingLogger(lines));
    const warnings = lines.filter((l) => /unknown option/.test(l.msg)).map((l) => l.msg);
    expect(warnings).toEqual([expect.stringMatching(/\[app:proxy-server\] ignores unknown option node_timout$/)]);
  });

  it('warn about a section option that [DEFAULT] shadows (PasteDeploy gives [DEFAULT] the last word)', async () => {
    const lines: { level: number; msg: string }[] = [];
    const text = conf('catch_errors cache healthcheck proxy-server', `[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n${CACHE}\n[filter:healthcheck]\nuse = egg:swift#healthcheck\ndisable_path = /from-section\n`).replace(
      '[DEFAULT]\n',
      '[DEFAULT]\ndisable_path = /from-default\n',
    );
    await cluster(text, capturingLogger(lines));
    const warnings = lines.filter((l) => /also set in \[DEFAULT\]/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/\[filter:healthcheck\] disable_path is also set in \[DEFAULT\], whose value wins as in Swift \(write "set disable_path = \.\.\." to override it\)$/);
  });

  it('can be added from outside: typed options, an /info section and a close hook', async () => {
    const events: string[] = [];
    registerFilter(
      defineFilter<{ greeting: string }>({
        name: 'greeter',
        options: (section) => {
          if (!section.greeting) throw new ConfigError('[filter:greeter] greeting is required');
          return { greeting: section.greeting };
        },
        info: (options) => ({ greeter: { greeting: options.greeting } }),
        create: (options) => ({
          handler: async (c, next) => {
            await next();
            editResponseHeaders(c, (headers) => headers.set('x-greeting', options.greeting));
          },
          close: () => {
            events.push('closed');
          },
        }),
      }),
    );
    const text = conf('catch_errors cache greeter proxy-server', `[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n${CACHE}\n[filter:greeter]\nuse = egg:sluice#greeter\ngreeting = hello\n`);
    const cl = await startCluster({ proxyConfig: text, logger: pino({ level: 'silent' }) });
    try {
      const info = await call(cl.url, 'GET', '/info');
      expect(JSON.parse(info.text).greeter).toEqual({ greeting: 'hello' });
      expect(info.headers['x-greeting']).toBe('hello');
      expect(events).toEqual([]);
    } finally {
      await cl.stop();
    }
    expect(events).toEqual(['closed']);
    await expect(startCluster({ proxyConfig: text.replace('greeting = hello\n', '') })).rejects.toThrow(/greeting is required/);
  });

  it('are looked up in the registry the proxy is given', () => {
    const registry = new FilterRegistry();
    registry.register(defineFilter({ name: 'proxy-logging', options: () => ({}), create: () => async (_c, next) => next() }));
    expect(registry.names()).toEqual(['proxy_logging']);
    expect(registry.get('proxy-logging')?.name).toBe('proxy_logging');
    expect(registry.get('tempauth')).toBeUndefined();
  });
});
