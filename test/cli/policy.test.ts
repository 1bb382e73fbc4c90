/**
 * `sluice policy list|check|lint`, run in-process through the CLI's run(): the listing against
 * oslo.policy's own sample generator (Debian's python3-oslo.policy), decisions with their traces
 * and exit codes, and lint's report of a policy file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main';
import { POLICY_USAGE } from '../../src/cli/policy';
import { sampleRule } from '../../src/policy/sample';
import { keystoneRuleDefaults, tempauthRuleDefaults } from '../../src/middleware/authz';
import type { RuleDefault } from '../../src/policy/index';

async function sluice(...args: string[]): Promise<{ code: number | undefined; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const PY = '/usr/bin/python3';
const probe = existsSync(PY) ? spawnSync(PY, ['-c', 'import oslo_policy.generator'], { encoding: 'utf8' }) : undefined;
const haveOslo = probe?.status === 0;
if (!haveOslo && process.env.CI) throw new Error(`oslo.policy's generator is required in CI: ${probe?.stderr?.trim() || `${PY} missing`}`);

/** oslopolicy-sample-generator's YAML for these rules: _format_rule_default_yaml of each, joined. */
const GENERATOR = `
import json, sys, warnings
warnings.simplefilter('ignore')
from oslo_policy import policy, generator
out = []
for r in json.load(sys.stdin):
    ops = [dict(o) for o in r.get('operations') or []]
    d = (policy.DocumentedRuleDefault(r['name'], r['check'], r['description'], ops) if ops
         else policy.RuleDefault(r['name'], r['check'], description=r['description']))
    out.append(generator._format_rule_default_yaml(d))
sys.stdout.write(json.dumps(out))
`;

function osloSample(rules: readonly RuleDefault[]): string[] {
  const r = spawnSync(PY, ['-c', GENERATOR], { input: JSON.stringify(rules), encoding: 'utf8', env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[];
}

/** The listing's lines for one default: description, operations, the default commented out, a blank line. */
function block(d: RuleDefault): string[] {
  return sampleRule(d).split('\n').slice(0, -1);
}

function byName(rules: readonly RuleDefault[], name: string): RuleDefault {
  return rules.find((r) => r.name === name)!;
}

let dir: string;
const path = (name: string) => join(dir, name);
function write(name: string, text: string): string {
  writeFileSync(path(name), text);
  return path(name);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-policy-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEYSTONE_CONF = (extra: string) => `[pipeline:main]
pipeline = catch_errors cache authtoken swift-auth proxy-server

[app:proxy-server]
use = egg:swift#proxy

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:cache]
use = egg:swift#memcache

[filter:authtoken]
use = egg:keystonemiddleware#auth_token

[filter:swift-auth]
use = egg:swift#keystoneauth
${extra}
`;

const TEMPAUTH_CONF = (extra: string) => `[pipeline:main]
pipeline = catch_errors tempauth proxy-server

[app:proxy-server]
use = egg:swift#proxy

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
${extra}
`;

describe('sluice policy list', () => {
  it.each([
    ['tempauth', tempauthRuleDefaults()],
    ['keystone', keystoneRuleDefaults()],
  ] as const)('--auth %s: every default, as oslopolicy-sample-generator writes it', async (auth, defaults) => {
    const r = await sluice('policy', 'list', '--auth', auth);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    const get = byName(defaults, 'swift:object:get');
    const at = r.out.indexOf('# GET on an object.');
    expect(r.out.slice(at, at + 4)).toEqual(['# GET on an object.', '# GET  /v1/{account}/{container}/{object}', `#"swift:object:get": "${get.check}"`, '']);
    expect(r.out).toEqual(defaults.flatMap(block));
    if (haveOslo) expect(r.out.join('\n') + '\n').toBe(osloSample(defaults).join(''));
  });

  it('the two filters have their own defaults; tempauth is the default', async () => {
    const tempauth = byName(tempauthRuleDefaults(), 'swift:object:get').check;
    const keystone = byName(keystoneRuleDefaults(), 'swift:object:get').check;
    expect(tempauth).not.toBe(keystone);
    const r = await sluice('policy', 'list');
    expect(r.out).toContain(`#"swift:object:get": "${tempauth}"`);
    expect(r.out).not.toContain(`#"swift:object:get": "${keystone}"`);
    expect(r.out).toContain('#"swift:account_owner": "account:project and account:operator"');
  });

  it('--config: the pipeline filter\'s section; options leave the text alone, its policy_file is used', async () => {
    const plain = await sluice('policy', 'list', '--auth', 'keystone');
    const conf = write('roles.conf', KEYSTONE_CONF('operator_roles = admin, projectowner\nreseller_prefix = AUTH, SERVICE'));
    expect((await sluice('policy', 'list', '--config', conf)).out).toEqual(plain.out);

    write('policy.yaml', '# ours\n"swift:object:delete": "role:admin or rule:owner_only"\nowner_only: rule:swift:account_owner\n');
    const withFile = write('file.conf', KEYSTONE_CONF('policy_file = %(here)s/policy.yaml'));
    const r = await sluice('policy', 'list', '--config', withFile);
    expect(r.code).toBe(0);
    const del = byName(keystoneRuleDefaults(), 'swift:object:delete');
    const at = r.out.indexOf('# DELETE on an object.');
    expect(r.out.slice(at, at + 6)).toEqual([
      '# DELETE on an object.',
      '# DELETE  /v1/{account}/{container}/{object}',
      `# ${path('policy.yaml')}:2 overrides the default:`,
      `#"swift:object:delete": "${del.check}"`,
      '"swift:object:delete": "role:admin or rule:owner_only"',
      '',
    ]);
    expect(r.out.slice(-3)).toEqual([`# Only in ${path('policy.yaml')}:3 (no default of this name).`, '"owner_only": "rule:swift:account_owner"', '']);
    // Everything else is the defaults' listing.
    expect(r.out.length).toBe(plain.out.length + 2 + 3);

    // --policy in place of the section's file.
    const other = write('other.json', '{"swift:object:get": "role:\\"q\\""}');
    const o = await sluice('policy', 'list', '--config', withFile, '--policy', other);
    expect(o.out).toContain(`# ${other}:1 overrides the default:`);
    expect(o.out).toContain('"swift:object:get": "role:\\"q\\""');
    expect(o.out).not.toContain('"swift:object:delete": "role:admin or rule:owner_only"');
  });

  it('a policy file that cannot be read or loaded: exit 2', async () => {
    let r = await sluice('policy', 'list', '--policy', path('missing.yaml'));
    expect(r).toEqual({ code: 2, out: [], err: [`sluice: cannot read the policy file ${path('missing.yaml')}: ENOENT`] });
    r = await sluice('policy', 'list', '--policy', write('list.yaml', '- a\n- b\n'));
    expect(r).toEqual({ code: 2, out: [], err: [`sluice: cannot load the policy file ${path('list.yaml')}:`, `${path('list.yaml')}: expected a mapping of rule names to rules at the top, found a list`] });
  });

  it('usage errors: exit 2', async () => {
    expect((await sluice('policy', 'list', '--auth', 'ldap')).code).toBe(2);
    expect((await sluice('policy', 'list', '--config', path('nope.conf'))).err[0]).toMatch(/^sluice: error: cannot read .*nope\.conf/);
    const both = write('both.conf', TEMPAUTH_CONF('').replace('pipeline = catch_errors tempauth proxy-server', 'pipeline = catch_errors tempauth swift-auth proxy-server') + '\n[filter:swift-auth]\nuse = egg:swift#keystoneauth\n');
    expect(await sluice('policy', 'list', '--config', both)).toEqual({ code: 2, out: [], err: [`sluice: the pipeline of ${both} has tempauth and swift-auth: say which with --auth`] });
    expect((await sluice('policy', 'list', '--config', both, '--auth', 'keystone')).out).toEqual((await sluice('policy', 'list', '--auth', 'keystone')).out);
    expect(await sluice('policy', 'frob')).toEqual({ code: 2, out: [], err: ['sluice: unknown policy subcommand "frob"', `\n${POLICY_USAGE}`] });
    expect(await sluice('help', 'policy')).toEqual({ code: 0, out: [POLICY_USAGE], err: [] });
  });

  it.skipIf(!haveOslo)('descriptions wrap as oslo.policy wraps them (textwrap at 70, hyphens, long words, paragraphs, literal blocks)', () => {
    const word = fc.oneof(
      fc.constantFrom('read-only', 'X-Service-Token', 'a', 'GET/HEAD', '--', 'well--known', 'x-', '-y', 'co-op-er-ate', 'AUTH_test', "user's", 'e.g.', 'tab\there', 'naïve', '12-34'),
      fc.string({ unit: fc.constantFrom('a', 'b', '-', '.', '_', '1'), minLength: 1, maxLength: 90 }),
    );
    const line = fc.array(word, { minLength: 0, maxLength: 25 }).map((ws) => ws.join(' '));
    const description = fc.array(fc.oneof(line, line.map((l) => `   ${l}`), fc.constant('')), { minLength: 0, maxLength: 5 }).map((ls) => ls.join('\n'));
    const rules = fc.sample(description, { numRuns: 300, seed: 424242 }).map((d, i): RuleDefault => ({ name: `r${i}`, check: 'role:a', description: d, operations: i % 2 && d !== '' ? [{ method: 'GET', path: '/v1/{account}' }] : [] }));
    expect(rules.map((r) => sampleRule(r))).toEqual(osloSample(rules));
  });
});

const OWNER = '{"user":"test:tester","groups":["test","test:tester","AUTH_test"]}';
const TESTER3 = '{"auth":"tempauth","user":"test:tester3","groups":["test","test:tester3"],"roles":["test","test:tester3"],"is_reseller_admin":false,"is_reseller_reader":false}';
const STRANGER = '{"user":"test2:tester2","groups":["test2","test2:tester2","AUTH_test2"]}';
const OBJECT_GET = '{"method":"GET","level":"object","account":"AUTH_test","container":"c","object":"o","acl":"test:tester3","account_acl":"{\\"read-only\\":[\\"test:tester3\\"]}"}';

describe('sluice policy check', () => {
  it('the owner may write, a stranger may not: exit 0 and 1, the trace naming the container ACL', async () => {
    const put = '{"method":"PUT","account":"AUTH_test","container":"c","object":"o","write_acl":"test:tester3"}';
    const owner = await sluice('policy', 'check', '--creds', OWNER, '--target', put, 'swift:object:put');
    expect(owner.code).toBe(0);
    expect(owner.out[0]).toBe('allow swift:object:put');
    expect(owner.out.filter((l) => l.startsWith('        account:'))).toEqual([expect.stringMatching(/^ {8}account:project -> true: .*AUTH_test.*test:tester/), expect.stringMatching(/^ {8}account:operator -> true: /)]);

    const stranger = await sluice('policy', 'check', '--creds', STRANGER, '--target', put);
    expect(stranger.code).toBe(1);
    expect(stranger.err).toEqual([]);
    expect(stranger.out[0]).toBe('deny swift:object:put');
    expect(stranger.out[1]).toBe(`  (${byName(tempauthRuleDefaults(), 'swift:object:put').check}) -> false`);
    // The rule is found from the target (swift:object:put), and acl from write_acl.
    expect(stranger.out).toContain('    container_acl:member -> false: no entry of X-Container-Write on AUTH_test/c matches test2:tester2');
    expect(stranger.out).toContain('    rule:swift:account_owner -> false');
  });

  it('the brief\'s example: tester3 reads through the container ACL', async () => {
    const r = await sluice('policy', 'check', '--creds', TESTER3, '--target', OBJECT_GET, 'swift:object:get');
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('allow swift:object:get');
    expect(r.out.at(-1)).toBe('    container_acl:member -> true: X-Container-Read on AUTH_test/c names "test:tester3"');
  });

  it('an overriding policy file changes the decision; the whole trace of its rule', async () => {
    const file = write('check.yaml', '"swift:object:get": "container_acl:member or account_acl:read-only"\n');
    const target = '{"method":"GET","account":"AUTH_test","container":"c","object":"o","read_acl":"test:tester3,.r:*","account_acl":{"read-only":["test:tester5"]}}';
    // The defaults let anyone read through the .r:* referrer entry.
    expect((await sluice('policy', 'check', '--creds', STRANGER, '--target', target)).code).toBe(0);
    expect(await sluice('policy', 'check', '--policy', file, '--creds', STRANGER, '--target', target)).toEqual({
      code: 1,
      err: [],
      out: [
        'deny swift:object:get',
        '  (container_acl:member or account_acl:read-only) -> false',
        '    container_acl:member -> false: no entry of X-Container-Read on AUTH_test/c matches test2:tester2',
        '    account_acl:read-only -> false: the account ACL of AUTH_test grants test2:tester2 no read-only access',
      ],
    });
    expect(await sluice('policy', 'check', '--policy', file, '--creds', '{"user":"test:tester5"}', '--target', target)).toEqual({
      code: 0,
      err: [],
      out: [
        'allow swift:object:get',
        '  (container_acl:member or account_acl:read-only) -> true',
        '    container_acl:member -> false: no entry of X-Container-Read on AUTH_test/c matches test:tester5',
        '    account_acl:read-only -> true: the account ACL of AUTH_test grants read-only to "test:tester5"',
      ],
    });
  });

  it('forgiving credentials: roles from groups under tempauth, reseller flags from the groups, JSON from @files', async () => {
    const file = write('roles.yaml', 'r: "role:ops and not is_reseller_admin:True"\ns: "is_reseller_admin:True"\n');
    const creds = write('creds.json', '{"user":"test:ann","groups":["test","test:ann","ops"]}');
    const target = write('target.json', '{"method":"GET","account":"AUTH_test"}');
    expect((await sluice('policy', 'check', '--policy', file, '--creds', `@${creds}`, '--target', `@${target}`, 'r')).out).toEqual([
      'allow r',
      '  (role:ops and not is_reseller_admin:True) -> true',
      '    role:ops -> true: the roles include "ops"',
      '    not is_reseller_admin:True -> true',
      '      is_reseller_admin:True -> false: no credential "is_reseller_admin" is "True"',
    ]);
    expect((await sluice('policy', 'check', '--policy', file, '--creds', '{"groups":["admin","admin:admin",".reseller_admin"]}', '--target', `@${target}`, 's')).code).toBe(0);
  });

  it('keystone: the configured operator roles decide who owns the project\'s account', async () => {
    const ann = '{"user_id":"u1","user_name":"ann","project_id":"p1","project_name":"proj-a","roles":["ProjectOwner"]}';
    const target = '{"method":"PUT","account":"AUTH_p1","container":"c"}';
    const plain = await sluice('policy', 'check', '--auth', 'keystone', '--creds', ann, '--target', target);
    expect(plain.code).toBe(1);
    expect(plain.out.filter((l) => l.startsWith('        account:operator -> '))).toEqual([expect.stringMatching(/^ {8}account:operator -> false: .*AUTH_p1/)]);
    const conf = write('owner.conf', KEYSTONE_CONF('operator_roles = admin, projectowner'));
    const configured = await sluice('policy', 'check', '--config', conf, '--creds', ann, '--target', target);
    expect(configured.code).toBe(0);
    expect(configured.out[0]).toBe('allow swift:container:put');
    expect(configured.out.filter((l) => l.startsWith('        account:operator -> '))).toEqual([expect.stringMatching(/^ {8}account:operator -> true: .*AUTH_p1/)]);
    // reseller_admin_role decides is_reseller_admin when the credentials leave it out.
    const reseller = '{"user_id":"u2","project_id":"p9","roles":["ResellerAdmin"]}';
    expect((await sluice('policy', 'check', '--auth', 'keystone', '--creds', reseller, '--target', target)).code).toBe(0);
    // Tempauth credentials under keystone's rules are a mistake.
    expect(await sluice('policy', 'check', '--auth', 'keystone', '--creds', TESTER3, '--target', target)).toEqual({
      code: 2,
      out: [],
      err: ['sluice: creds.auth is "tempauth" but these are keystone\'s rules (use --auth tempauth, or a --config with that filter)'],
    });
  });

  it('tempauth: require_group from --config', async () => {
    const owner = '{"user":"test:tester","groups":["test","test:tester","AUTH_test","SERVICE_test"]}';
    const target = '{"method":"PUT","account":"SERVICE_test","container":"c"}';
    const open = write('prefixes.conf', TEMPAUTH_CONF('reseller_prefix = AUTH, SERVICE'));
    expect((await sluice('policy', 'check', '--config', open, '--creds', owner, '--target', target)).code).toBe(0);
    const closed = write('group.conf', TEMPAUTH_CONF('reseller_prefix = AUTH, SERVICE\nSERVICE_require_group = service'));
    const r = await sluice('policy', 'check', '--config', closed, '--creds', owner, '--target', target);
    expect(r.code).toBe(1);
    expect(r.out.filter((l) => l.startsWith('        account:operator -> '))).toEqual([expect.stringMatching(/^ {8}account:operator -> false: .*SERVICE_test/)]);
  });

  it('errors: exit 2', async () => {
    const target = '{"method":"GET","account":"AUTH_test"}';
    let r = await sluice('policy', 'check', '--creds', '{bad', '--target', target);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^sluice: --creds: not valid JSON: /);
    expect(await sluice('policy', 'check', '--creds', '[]', '--target', target)).toEqual({ code: 2, out: [], err: ['sluice: --creds: expected a JSON object, not a list'] });
    expect(await sluice('policy', 'check', '--creds', '{}', '--target', '{"method":"GET"}')).toEqual({ code: 2, out: [], err: ['sluice: target.account is required (e.g. "AUTH_test")'] });
    expect(await sluice('policy', 'check', '--creds', '{"roles":"admin"}', '--target', target)).toEqual({ code: 2, out: [], err: ['sluice: creds.roles must be a list of strings, not "admin"'] });
    expect(await sluice('policy', 'check', '--creds', '{}', '--target', '{"method":"GET","account":"a","object":"o"}')).toEqual({ code: 2, out: [], err: ['sluice: target.object needs target.container'] });
    expect(await sluice('policy', 'check', '--creds', '{}', '--target', target, 'swift:objet:get')).toEqual({ code: 2, out: [], err: ['sluice: no rule "swift:objet:get" (did you mean "swift:object:get"?)'] });
    expect(await sluice('policy', 'check', '--creds', '{}', '--target', '{"account":"a"}')).toEqual({ code: 2, out: [], err: ['sluice: give RULE, or a target with a method (the rule is then swift:<level>:<method>)'] });
    expect((await sluice('policy', 'check', '--target', target)).code).toBe(2);
    const bad = write('refused.yaml', '"swift:object:get": "role:a or"\n');
    r = await sluice('policy', 'check', '--policy', bad, '--creds', '{}', '--target', target);
    expect(r).toEqual({
      code: 2,
      out: [],
      err: ['sluice: the proxy would refuse the policy (1 problem); "sluice policy lint" shows them all:', `${bad}:1: rule "swift:object:get", column 10: the rule ends after "or"; a check, "not" or "(" must follow`, '    role:a or', '             ^'],
    });
  });
});

describe('sluice policy lint', () => {
  it('reports each problem on its line: exit 1', async () => {
    const file = write(
      'lint.yaml',
      [
        '# swift:object rules',
        '"swift:object:get": "role:admin or (role:reader"',
        '"swift:object:head": "rule:swift:nonexistent or role:admin"',
        '"swift:object:put": "role:admin and !"',
        '"swift:objet:delete": "role:admin"',
        '"swift:container:get": "container_acl:bogus or role:admin"',
        '"swift:container:put": "!"',
        '"swift:container:head": "role:a and not role:A"',
        '',
      ].join('\n'),
    );
    const r = await sluice('policy', 'lint', file);
    expect(r.err).toEqual([]);
    expect(r.out).toEqual([
      `${file}:2: rule "swift:object:get", column 15: this "(" is never closed`,
      '    role:admin or (role:reader',
      '                  ^',
      `${file}:2: rule "swift:object:get": never passes: it cannot be read, so it is "!", as in oslo.policy`,
      `${file}:3: rule "swift:object:head", column 6: rule:swift:nonexistent refers to no rule`,
      '    rule:swift:nonexistent or role:admin',
      '         ^',
      `${file}:4: rule "swift:object:put": never passes: "!" never passes`,
      `${file}:5: rule "swift:objet:delete": warning: overrides no default rule and no rule refers to it, so it is never used; did you mean "swift:object:delete"?`,
      `${file}:6: rule "swift:container:get", column 15: container_acl: expects one of member, role, referrer, rlistings, read, write`,
      '    container_acl:bogus or role:admin',
      '                  ^',
      `${file}:6: rule "swift:container:get": never passes: container_acl:bogus cannot be evaluated (container_acl: expects one of member, role, referrer, rlistings, read, write), and the error denies`,
      `${file}:8: rule "swift:container:head": never passes: no results of its checks (role:a) make it pass: they contradict each other`,
    ]);
    expect(r.code).toBe(1);
  });

  it('loops, unsupported checks, and keystone\'s kinds under --auth keystone', async () => {
    const file = write('loop.json', '{\n "a": "rule:b or role:x",\n "b": "rule:a",\n "swift:object:get": "rule:a or http://example.com/check or container_acl:role"\n}\n');
    const r = await sluice('policy', 'lint', file, '--auth', 'keystone');
    expect(r.out).toEqual([
      `${file}:2: rule "a", column 6: rules refer to each other in a loop: a -> b -> a`,
      '    rule:b or role:x',
      '         ^',
      `${file}:2: rule "a": never passes: evaluating rule:b always ends in an error, which denies`,
      `${file}:3: rule "b": never passes: evaluating rule:a always ends in an error, which denies`,
      `${file}:4: rule "swift:object:get", column 11: http: checks (oslo.policy's external HTTP checks) are not supported`,
      '    rule:a or http://example.com/check or container_acl:role',
      '              ^',
      `${file}:4: rule "swift:object:get": never passes: evaluating rule:a always ends in an error, which denies`,
    ]);
    expect(r.code).toBe(1);
  });

  it('a clean file, and the defaults of both filters: exit 0', async () => {
    const file = write('clean.yaml', '"swift:object:delete": "role:admin or rule:owner_only"\nowner_only: "rule:swift:account_owner"\n');
    expect(await sluice('policy', 'lint', file)).toEqual({ code: 0, err: [], out: [`${file}: no problems (2 rules: 1 overriding tempauth's defaults, 1 of its own)`] });
    const empty = write('empty.yaml', '# nothing overridden\n');
    expect(await sluice('policy', 'lint', empty, '--auth', 'keystone')).toEqual({ code: 0, err: [], out: [`${empty}: no problems (0 rules: 0 overriding keystoneauth's defaults, 0 of its own)`] });
    expect((await sluice('policy', 'lint', empty)).code).toBe(0);
    // FILE defaults to the configured policy_file.
    const conf = write('lint.conf', TEMPAUTH_CONF('policy_file = %(here)s/clean.yaml'));
    expect(await sluice('policy', 'lint', '--config', conf)).toEqual({ code: 0, err: [], out: [`${file}: no problems (2 rules: 1 overriding tempauth's defaults, 1 of its own)`] });
  });

  it('a file that cannot be read or loaded, or no file: exit 2', async () => {
    expect(await sluice('policy', 'lint', path('absent.yaml'))).toEqual({ code: 2, out: [], err: [`sluice: cannot read the policy file ${path('absent.yaml')}: ENOENT`] });
    const broken = write('broken.yaml', 'a: "x"\nb: [unclosed\n');
    const r = await sluice('policy', 'lint', broken);
    expect(r.code).toBe(2);
    expect(r.err[0]).toBe(`sluice: cannot load the policy file ${broken}:`);
    expect(r.err[1]).toMatch(new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: not valid YAML or JSON: `));
    expect((await sluice('policy', 'lint')).code).toBe(2);
  });
});
