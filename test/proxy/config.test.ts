import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_PROXY_CONF } from '../../src/cluster/dev-cluster';
import { ConfigError, loadProxyConfig, parseProxyConfig, trackReads, type ProxyConfig } from '../../src/proxy/config';
import { PYTHON } from '../compat/configparser-oracle';
import { errorOf } from '../helpers/config-error';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-proxy-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function confFile(text: string): string {
  const path = join(tmp, `proxy-${n++}.conf`);
  writeFileSync(path, text);
  return path;
}

const MINIMAL = `
[pipeline:main]
pipeline = healthcheck proxy-server

[app:proxy-server]
use = egg:swift#proxy

[filter:healthcheck]
use = egg:swift#healthcheck
`;

describe('what each pipeline element is', () => {
  it('comes from use, whatever the section is called', () => {
    const c = parseProxyConfig(`
[pipeline:main]
pipeline = errors logging cache auth proxy-server

[app:proxy-server]
use = egg:swift#proxy

[filter:errors]
use = egg:swift#catch_errors

[filter:logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache

[filter:auth]
use = egg:swift#tempauth
user_a_b = key
`);
    expect(c.uses).toEqual({ errors: 'catch_errors', logging: 'proxy_logging', cache: 'memcache', auth: 'tempauth', 'proxy-server': 'proxy' });
    expect(c.filters.auth).toEqual({ log_name: 'proxy-server', user_a_b: 'key' });
    expect(c.pipeline).toEqual(['errors', 'logging', 'cache', 'auth', 'proxy-server']);
  });

  it('or from paste.filter_factory, call: or egg:sluice', () => {
    const c = parseProxyConfig(`
[pipeline:main]
pipeline = authtoken tempauth hc extra proxy-server

[app:proxy-server]
paste.app_factory = swift.proxy.server:app_factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory

[filter:tempauth]
paste.filter_factory = swift.common.middleware.tempauth:filter_factory

[filter:hc]
use = call:swift.common.middleware.healthcheck:filter_factory

[filter:extra]
use = egg:sluice#my-filter
`);
    expect(c.uses).toEqual({ authtoken: 'authtoken', tempauth: 'tempauth', hc: 'healthcheck', extra: 'my_filter', 'proxy-server': 'proxy' });
    expect(c.filters.tempauth).not.toHaveProperty('paste.filter_factory');
  });

  it('may name another section of the same type, whose options it extends', () => {
    const c = parseProxyConfig(`
[pipeline:main]
pipeline = mine proxy-server

[app:proxy-server]
use = egg:swift#proxy

[filter:base]
use = egg:swift#tempauth
token_life = 10
reseller_prefix = AUTH

[filter:mine]
use = base
token_life = 20
`);
    expect(c.uses.mine).toBe('tempauth');
    expect(c.filters.mine).toEqual({ log_name: 'proxy-server', token_life: '20', reseller_prefix: 'AUTH' });
  });

  it('refuses a section that says neither, naming it', () => {
    const err = errorOf(() => parseProxyConfig(MINIMAL.replace('use = egg:swift#healthcheck\n', 'disable_path = x\n'), 'p.conf'));
    expect(err.kind).toBe('paste');
    expect(err.message).toMatch(/^p\.conf:8: \[filter:healthcheck\] says neither what it is/);
    expect(() => parseProxyConfig(MINIMAL.replace('use = egg:swift#proxy\n', ''))).toThrow(/\[app:proxy-server\] says neither/);
  });

  it('leaves egg names to the pipeline builder and refuses loaders sluice lacks', () => {
    expect(parseProxyConfig(MINIMAL.replace('egg:swift#healthcheck', 'egg:swift#no_such')).uses.healthcheck).toBe('no_such');
    expect(() => parseProxyConfig(MINIMAL.replace('egg:swift#healthcheck', 'egg:other#x'))).toThrow(/only egg:swift/);
    expect(() => parseProxyConfig(MINIMAL.replace('egg:swift#healthcheck', 'config:other.conf'))).toThrow(/config: loaders/);
    expect(() => parseProxyConfig(MINIMAL.replace('use = egg:swift#healthcheck', 'paste.filter_factory = mine:filter_factory'))).toThrow(/nothing for the factory "mine:filter_factory"/);
  });

  it('needs [pipeline:main] holding only the pipeline, and [app:proxy-server]', () => {
    expect(() => parseProxyConfig('[app:proxy-server]\nuse = egg:swift#proxy\n')).toThrow(/no section \[app:main\]/);
    expect(() => parseProxyConfig(MINIMAL.replace('pipeline = healthcheck proxy-server', 'pipeline = healthcheck proxy-server\nworkers = 2'))).toThrow(/may hold only pipeline .* not workers/);
    expect(() => parseProxyConfig(MINIMAL.replace('[filter:healthcheck]', '[filter:other]'))).toThrow(/no section \[filter:healthcheck\] for filter "healthcheck"/);
    expect(() => parseProxyConfig(MINIMAL.replace(/proxy-server/g, 'proxy'))).toThrow(/\[app:proxy-server\]/);
  });

  it('reads a pipeline element given as an egg, and a pipeline over several lines', () => {
    const c = parseProxyConfig(MINIMAL.replace('pipeline = healthcheck proxy-server', 'pipeline = egg:swift#catch_errors\n  healthcheck\n  proxy-server'));
    expect(c.pipeline).toEqual(['egg:swift#catch_errors', 'healthcheck', 'proxy-server']);
    expect(c.uses['egg:swift#catch_errors']).toBe('catch_errors');
  });

  it('starts from the built-in configuration when there is none', () => {
    const c = parseProxyConfig('# nothing here\n');
    expect(c.pipeline.at(-1)).toBe('proxy-server');
    expect(c.uses.cache).toBe('memcache');
    expect(loadProxyConfig().uses['proxy-logging']).toBe('proxy_logging');
  });
});

describe('what each element is given (PasteDeploy)', () => {
  it('[DEFAULT] wins over the section unless set is used; get copies a global', () => {
    const c = parseProxyConfig(`
[DEFAULT]
log_level = INFO
bind_port = 8080

[pipeline:main]
pipeline = healthcheck proxy-server

[app:proxy-server]
use = egg:swift#proxy
log_level = DEBUG
set bind_port = 9090
get port_copy = bind_port

[filter:healthcheck]
use = egg:swift#healthcheck
`);
    expect(c.app).toEqual({ log_level: 'INFO', bind_port: '9090', log_name: 'proxy-server', port_copy: '9090' });
    expect(c.filters.healthcheck!.bind_port).toBe('8080');
    expect(c.shadowed).toEqual({ 'proxy-server': ['log_level'] });
  });

  it('gives every element the proxy app log_name, as run_wsgi passes it', () => {
    const c = parseProxyConfig(MINIMAL.replace('use = egg:swift#proxy', 'use = egg:swift#proxy\nset log_name = front'));
    expect(c.filters.healthcheck!.log_name).toBe('front');
    expect(c.defaults.log_name).toBe('front');
  });

  it('keeps key case, # and ; in values, and interpolates with here and __file__', () => {
    const path = confFile(MINIMAL.replace('use = egg:swift#healthcheck', 'use = egg:swift#healthcheck\nDisable_Path = %(here)s/off#1;x\npct = 1%'));
    const c = loadProxyConfig(path);
    expect(c.filters.healthcheck).toMatchObject({ Disable_Path: `${tmp}/off#1;x`, pct: '1%', here: tmp, __file__: path });
  });

  it('reads a conf.d directory as one file', () => {
    const dir = join(tmp, 'proxy-server.conf.d');
    mkdirSync(dir);
    writeFileSync(join(dir, '00-pipeline.conf'), '[DEFAULT]\nbind_port = 8081\n[pipeline:main]\npipeline = healthcheck proxy-server\n');
    writeFileSync(join(dir, '10-app.conf'), '[app:proxy-server]\nuse = egg:swift#proxy\n[filter:healthcheck]\nuse = egg:swift#healthcheck\n');
    const c = loadProxyConfig(dir);
    expect(c.defaults).toMatchObject({ bind_port: '8081', here: dir, __file__: dir });
    expect(c.uses.healthcheck).toBe('healthcheck');
  });

  it('reports syntax errors with file and line', () => {
    const path = confFile(MINIMAL + 'use = again\n');
    expect(() => loadProxyConfig(path)).toThrow(`${path}:10: option "use" appears twice in [filter:healthcheck]`);
    expect(errorOf(() => loadProxyConfig(join(tmp, 'missing.conf'))).kind).toBe('read');
  });

  it('reads the development configuration', () => {
    const c: ProxyConfig = parseProxyConfig(DEV_PROXY_CONF);
    expect(c.uses.cache).toBe('memcache');
    expect(c.filters.tempauth!.SERVICE_require_group).toBe('service');
  });
});

describe('trackReads', () => {
  it('lists the options nobody read, leaving out [DEFAULT] ones and loader keys', () => {
    const section = { log_name: 'p', bind_port: '1', use: 'egg:swift#x', 'paste.filter_factory': 'm:f', token_life: '5', typo_option: 'x', checked: 'y' };
    const tracked = trackReads(section, { log_name: 'p', bind_port: '1' });
    expect(tracked.section.token_life).toBe('5');
    expect('checked' in tracked.section).toBe(true);
    expect(Object.keys(tracked.section)).toHaveLength(7); // listing keys reads nothing
    expect(tracked.unread()).toEqual(['typo_option']);
  });

  it('counts a read of a missing option as nothing and a spread as reading all', () => {
    const tracked = trackReads({ a: '1', b: '2' });
    expect(tracked.section.nope).toBeUndefined();
    expect(tracked.unread()).toEqual(['a', 'b']);
    const copy = { ...tracked.section };
    expect(copy).toEqual({ a: '1', b: '2' });
    expect(tracked.unread()).toEqual([]);
  });
});

const havePythonSwift = spawnSync(PYTHON, ['-c', 'import swift.common.wsgi'], { stdio: 'ignore' }).status === 0;

/** Configs Swift's loader and sluice's must read alike: the same elements with the same options, or both an error. */
const DIFFERENTIAL: string[] = [
  DEV_PROXY_CONF,
  MINIMAL,
  `[DEFAULT]\nlog_level = INFO\nswift_dir = %(here)s/swift\n\n[pipeline:main]\nset log_facility = LOG_LOCAL1\npipeline = catch_errors\n  logging auth\n  proxy-server\n\n[app:proxy-server]\nuse = egg:swift#proxy\nlog_level = DEBUG\nset log_name = front\naccount_autocreate: true\nfallocate_reserve = 1%\n\n[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n[filter:logging]\npaste.filter_factory = swift.common.middleware.proxy_logging:filter_factory\naccess_log_name = %(log_name)s-access\n\n[filter:auth]\nuse = egg:swift#tempauth\nuser_test_tester = pa#ss .admin\nSERVICE_require_group = service\nget dir = swift_dir\n`,
  `[pipeline:main]\npipeline = base-user hc proxy-server\n\n[app:proxy-server]\nuse = egg:swift#proxy\n\n[filter:base]\nuse = egg:swift#tempauth\ntoken_life = 1\nset x = 1\n\n[filter:base-user]\nuse = base\ntoken_life = 2\n\n[filter: hc ]\nuse = call:swift.common.middleware.healthcheck:filter_factory\n`,
  `[pipeline:main]\npipeline = egg:swift#healthcheck main-proxy\n\n[app:main-proxy]\nuse = egg:swift#proxy\nnode_timeout = 3\n\n[application:proxy-server]\nuse = egg:swift#proxy\nlog_name = own\n`,
  `[pipeline:main]\npipeline = hc proxy-server\n\n[app:proxy-server]\nuse = egg:swift#proxy\n\n[filter:hc]\nuse = egg:swift#healthcheck\n\n[filter:unused]\nbroken = 50%(oops\n`,
  // Errors, each in its own way. (An egg name Swift lacks, egg:swift#nope, is refused by the
  // pipeline builder, which knows what sluice has, so it is not here.)
  MINIMAL.replace('use = egg:swift#healthcheck\n', ''),
  MINIMAL.replace('pipeline = healthcheck proxy-server', 'pipeline = healthcheck proxy-server\nextra = 1'),
  MINIMAL.replace('[app:proxy-server]', '[app:other]').replace('pipeline = healthcheck proxy-server', 'pipeline = healthcheck other'),
  MINIMAL.replace('use = egg:swift#healthcheck', 'use = egg:swift#healthcheck\nbad = %(nope)s'),
  MINIMAL.replace('use = egg:swift#healthcheck', 'use = egg:swift#healthcheck\nget x = nope'),
  MINIMAL.replace('use = egg:swift#healthcheck', 'use = egg:swift#healthcheck\nuse = egg:swift#healthcheck'),
  MINIMAL.replace('[pipeline:main]', '[app:main]\nuse = egg:swift#proxy\n[pipeline:main]'),
  MINIMAL.replace('[app:proxy-server]', '[app:proxy-server]\n[application:proxy-server]'),
];

describe.runIf(havePythonSwift)('agrees with Swift 2.30 loading proxy-server.conf (run_wsgi)', () => {
  it('on configurations that load and configurations that fail', () => {
    const paths = DIFFERENTIAL.map(confFile);
    const oracle = fileURLToPath(new URL('../compat/paste_oracle.py', import.meta.url));
    type Loaded = { pipeline: string[]; eggs: (string | null)[]; confs: Record<string, string>[]; defaults: Record<string, string> };
    const python = JSON.parse(execFileSync(PYTHON, [oracle, ...paths]).toString()) as ({ ok: Loaded } | { error: string; message: string })[];
    const outcomes = paths.map((path, i) => {
      const expected = python[i]!;
      let sluice: Loaded | 'error';
      try {
        const c = loadProxyConfig(path);
        sluice = {
          pipeline: c.pipeline,
          eggs: c.pipeline.map((name, j) => ('ok' in expected && expected.ok.eggs[j] === null ? null : c.uses[name]!)),
          confs: c.pipeline.map((name, j) => (j === c.pipeline.length - 1 ? c.app : c.filters[name]!)),
          defaults: c.defaults,
        };
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        sluice = 'error';
      }
      return { i, python: 'ok' in expected ? expected.ok : 'error', sluice };
    });
    for (const o of outcomes) expect(o.sluice, `case ${o.i}: ${JSON.stringify(python[o.i])}`).toEqual(o.python);
    expect(outcomes.filter((o) => o.python !== 'error').length).toBe(6);
  });
});
