/**
 * `sluice policy list|check|lint`: the rules an auth filter decides requests with (src/middleware/authz),
 * shown as oslopolicy-sample-generator shows a service's defaults, evaluated for one caller and
 * request with the reason for every check, and a policy file checked before it is deployed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { keystoneRuleDefaults, levelOf, ruleFor, swiftCheckKinds, tempauthRuleDefaults, type SwiftCreds, type SwiftLevel, type SwiftTarget } from '../middleware/authz';
import { keystoneAuthzModel } from '../middleware/keystoneauth/authz-model';
import { parseKeystoneAuthConfig, type KeystoneAuthConfig } from '../middleware/keystoneauth/config';
import { tempauthAuthzModel } from '../middleware/tempauth/authz-model';
import { parseTempAuthConfig } from '../middleware/tempauth/config';
import {
  DEFAULTS_SOURCE,
  PolicyError,
  analyzePolicy,
  buildPolicy,
  formatDecision,
  formatFinding,
  formatIssue,
  nearestName,
  parsePolicyText,
  ruleLine,
  sampleRule,
  type CheckKind,
  type Credentials,
  type PolicyFileContents,
  type PolicyIssue,
  type RuleDefault,
  type Target,
} from '../policy';
import { ConfigError, loadProxyConfig, type Section } from '../proxy/config';
import { UsageError } from './errors';
import type { CliIo } from './main';

export const POLICY_USAGE = `Usage: sluice policy list  [--auth tempauth|keystone | --config FILE] [--policy FILE]
       sluice policy check [--auth tempauth|keystone | --config FILE] [--policy FILE]
                           --creds JSON --target JSON [RULE]
       sluice policy lint  [FILE] [--auth tempauth|keystone | --config FILE]

An auth filter (tempauth or keystoneauth) decides each request with a rule, swift:<level>:<method>
(swift:object:get, ...), built from helper rules. The rules are defaults registered in code; a
policy file (oslo.policy's YAML or JSON, "policy_file" in the filter's section) overrides them
one by one.

  --auth     whose rules: tempauth (the default) or keystone, with the filter's default options
  --config   a proxy-server.conf (or conf.d directory): the rules and options of its pipeline's
             tempauth or keystoneauth filter, and the policy_file of that filter's section
             (with both filters in the pipeline, --auth says which)
  --policy   this policy file instead of the section's policy_file

list   every rule, as oslopolicy-sample-generator writes a sample policy file: its description,
       the operations it governs and its default, commented out. A rule the policy file
       overrides is written out with the file's text after a comment giving the default; rules
       only the file has come last.
check  whether the caller (--creds) may do RULE to the request (--target), and every check's
       result with the reason. RULE defaults to the one the filter asks for the request:
       swift:<level>:<method>. The policy file must load as the proxy loads it (every problem
       refused). Exit 0: allowed; 1: denied; 2: an error (bad JSON, no such rule, a policy file
       the proxy would refuse).
lint   every problem of the policy file FILE (default: --config's policy_file) loaded over the
       defaults as oslo.policy would load it: syntax (with the column), a rule: naming no rule,
       rules referring to each other in a loop, checks sluice cannot evaluate (container_acl:bogus,
       http:), rules that can never pass (a rule written "!" alone is taken as meant), and rules
       that override no default and that nothing uses (a misspelt name: the nearest default is
       suggested). Exit 0: no problems; 1: problems; 2: the file cannot be read.

--creds and --target take JSON text, or @PATH to read it from a file.

The target (the request):
  method           GET, HEAD, PUT, POST, DELETE, OPTIONS (or another method)
  account          the account, e.g. AUTH_test
  container, object
  level            account, container or object; follows from container and object when left out
  acl              the container ACL the proxy hands the filter: X-Container-Read for GET and HEAD,
                   X-Container-Write for object PUT/POST/DELETE (from read_acl/write_acl when
                   left out)
  read_acl, write_acl   the container's X-Container-Read and X-Container-Write
  account_acl      the account's X-Account-Access-Control: JSON text, or the JSON object itself
  referer          the Referer header
  container_sync   true when the request carries the container's sync key (X-Container-Sync-Key)
  account_exists, account_domain_id   keystoneauth: whether the account exists, the domain stored with it
  e.g. {"method":"GET","account":"AUTH_test","container":"c","object":"o","acl":"test:tester3",
        "account_acl":{"read-only":["test:tester3"]}}

The credentials (the caller), under tempauth:
  user             account:user, e.g. test:tester3
  groups           what tempauth gives the user: the account, account:user, the user's groups,
                   and for an .admin user the account id (AUTH_test) in place of .admin;
                   [account, user] when left out
  roles            the same as groups when left out
  is_reseller_admin, is_reseller_reader   true for the .reseller_admin / .reseller_reader
                   groups when left out
  e.g. {"user":"test:tester3","groups":["test","test:tester3"]}
       {"user":"test:tester","groups":["test","test:tester","AUTH_test"]}   (the owner)
under keystone:
  user_id, user_name, user_domain_id, project_id, project_name, project_domain_id   the token's
  roles            the token's role names (compared lowercased, as keystoneauth does)
  service_roles    the roles of an X-Service-Token
  is_reseller_admin, is_reseller_reader   from reseller_admin_role and system_reader_roles
                   when left out
  e.g. {"user_id":"u1","user_name":"ann","project_id":"p1","project_name":"proj-a",
        "roles":["member","swiftoperator"]}
either:
  auth             tempauth, keystone, or anonymous ({} is an anonymous caller too)`;

/** A mistake in what was given (exit 2), said without the whole usage text. */
class InputError extends Error {}

/** Problems with the policy file itself (exit 2 for check and list, the issues shown). */
class PolicyFileError extends Error {
  constructor(
    readonly headline: string,
    readonly issues: readonly PolicyIssue[],
  ) {
    super(headline);
  }
}

type Auth = 'tempauth' | 'keystone';

/** The rules, check kinds and options of one auth filter. */
interface Setup {
  readonly auth: Auth;
  readonly defaults: readonly RuleDefault[];
  readonly checks: Record<string, CheckKind>;
  /** --policy, or the section's policy_file, as named. */
  readonly policyFile?: string;
  /** keystoneauth's options that decide the reseller flags when the credentials leave them out. */
  readonly keystone?: KeystoneAuthConfig;
}

const COMMON = {
  auth: { type: 'string' },
  config: { type: 'string' },
  policy: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function authOf(value: string | undefined): Auth | undefined {
  if (value === undefined) return undefined;
  if (value === 'tempauth' || value === 'keystone') return value;
  throw new UsageError(`--auth must be tempauth or keystone, not ${JSON.stringify(value)}`, POLICY_USAGE);
}

/** The auth filter of a proxy-server.conf's pipeline, by the egg its section uses (the section may be called anything). */
function configuredFilter(path: string, wanted: Auth | undefined): { auth: Auth; section: Section; name: string } {
  const config = loadProxyConfig(path);
  const found: { auth: Auth; section: Section; name: string }[] = [];
  for (const name of config.pipeline.slice(0, -1)) {
    const egg = config.uses[name];
    const auth: Auth | undefined = egg === 'tempauth' ? 'tempauth' : egg === 'keystoneauth' ? 'keystone' : undefined;
    if (auth !== undefined && !found.some((f) => f.name === name)) found.push({ auth, section: config.filters[name] ?? { ...config.defaults }, name });
  }
  const candidates = wanted === undefined ? found : found.filter((f) => f.auth === wanted);
  if (candidates.length === 0) {
    const what = wanted === undefined ? 'tempauth or keystoneauth filter' : `${wanted === 'keystone' ? 'keystoneauth' : 'tempauth'} filter`;
    throw new InputError(`the pipeline of ${path} has no ${what}`);
  }
  if (candidates.length > 1) throw new InputError(`the pipeline of ${path} has ${candidates.map((c) => c.name).join(' and ')}: say which with --auth`);
  return candidates[0]!;
}

function setupFrom(values: { auth?: string; config?: string; policy?: string }): Setup {
  const wanted = authOf(values.auth);
  if (values.policy === '') throw new UsageError('--policy needs a file name', POLICY_USAGE);
  const filter = values.config === undefined ? { auth: wanted ?? 'tempauth', section: {} as Section } : configuredFilter(values.config, wanted);
  if (filter.auth === 'tempauth') {
    const conf = parseTempAuthConfig(filter.section);
    return { auth: 'tempauth', defaults: tempauthRuleDefaults(), checks: swiftCheckKinds(tempauthAuthzModel(conf)), policyFile: values.policy ?? conf.authz.policyFile };
  }
  const conf = parseKeystoneAuthConfig(filter.section);
  return { auth: 'keystone', defaults: keystoneRuleDefaults(), checks: swiftCheckKinds(keystoneAuthzModel(conf)), policyFile: values.policy ?? conf.authz.policyFile, keystone: conf };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The policy file as the Enforcer reads it; PolicyFileError when it cannot be loaded at all. */
function readPolicyFile(path: string): PolicyFileContents {
  let text: string;
  try {
    text = UTF8.decode(readFileSync(path));
  } catch (err) {
    const why = err instanceof TypeError ? 'not UTF-8' : ((err as NodeJS.ErrnoException).code ?? String(err));
    throw new PolicyFileError(`cannot read the policy file ${path}: ${why}`, []);
  }
  try {
    return parsePolicyText(text, path);
  } catch (err) {
    if (err instanceof PolicyError) throw new PolicyFileError(`cannot load the policy file ${path}:`, err.issues);
    throw err;
  }
}

// ------------------------------------------------------------------------------------- list

function emit(io: CliIo['out'], text: string): void {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) io(line);
}

function list(args: string[], io: CliIo): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: COMMON });
  if (values.help) {
    io.out(POLICY_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, POLICY_USAGE);
  const setup = setupFrom(values);
  const file = setup.policyFile === undefined ? undefined : readPolicyFile(setup.policyFile);
  const where = (name: string) => {
    const line = file!.rules.get(name)!.line;
    return line === undefined ? file!.source : `${file!.source}:${line}`;
  };
  let out = '';
  const registered = new Set<string>();
  for (const d of setup.defaults) {
    registered.add(d.name);
    const own = file?.rules.get(d.name);
    out += sampleRule(d, own === undefined ? undefined : { value: own.value, where: where(d.name) });
  }
  for (const [name, rule] of file?.rules ?? []) {
    if (registered.has(name)) continue;
    out += `# Only in ${where(name)} (no default of this name).\n${ruleLine(name, rule.value)}\n\n`;
  }
  emit(io.out, out);
  return 0;
}

// ------------------------------------------------------------------------------------- check

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON text, or `@path` for a file's. */
function jsonArg(option: string, value: string | undefined): Record<string, unknown> {
  if (value === undefined) throw new UsageError(`--${option} is required`, POLICY_USAGE);
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (err) {
      throw new InputError(`--${option}: cannot read ${value.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InputError(`--${option}: not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new InputError(`--${option}: expected a JSON object, not ${Array.isArray(parsed) ? 'a list' : JSON.stringify(parsed)}`);
  return parsed;
}

function field<T>(what: string, obj: Record<string, unknown>, key: string, type: 'string' | 'boolean'): T | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== type) throw new InputError(`${what}.${key} must be a ${type === 'string' ? 'string' : 'boolean (true or false)'}, not ${JSON.stringify(v)}`);
  return v as T;
}

function stringList(what: string, obj: Record<string, unknown>, key: string): string[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new InputError(`${what}.${key} must be a list of strings, not ${JSON.stringify(v)}`);
  return v as string[];
}

const LEVELS: readonly SwiftLevel[] = ['account', 'container', 'object'];
const STRING_FIELDS = ['account', 'container', 'object', 'referer', 'acl', 'read_acl', 'write_acl', 'account_domain_id'] as const;

/** The target as the filter builds it from a request (src/middleware/authz/request.ts). */
export function targetFrom(raw: Record<string, unknown>): SwiftTarget {
  const t: Record<string, unknown> = { ...raw };
  for (const key of ['method', ...STRING_FIELDS]) {
    const v = field<string>('target', raw, key, 'string');
    if (v === undefined) delete t[key];
  }
  for (const key of ['container_sync', 'account_exists']) if (field<boolean>('target', raw, key, 'boolean') === undefined) delete t[key];
  if (typeof t.account !== 'string') throw new InputError('target.account is required (e.g. "AUTH_test")');
  if (typeof t.method === 'string') t.method = t.method.toUpperCase();
  const container = t.container as string | undefined;
  const object = t.object as string | undefined;
  if (object !== undefined && container === undefined) throw new InputError('target.object needs target.container');
  const implied = levelOf(container, object);
  const level = field<string>('target', raw, 'level', 'string');
  if (level === undefined) t.level = implied;
  else if (!LEVELS.includes(level as SwiftLevel)) throw new InputError(`target.level must be account, container or object, not ${JSON.stringify(level)}`);
  else if (level !== implied) throw new InputError(`target.level is ${JSON.stringify(level)} but the container and object make it ${JSON.stringify(implied)}`);
  const accountAcl = raw.account_acl;
  if (isObject(accountAcl)) t.account_acl = JSON.stringify(accountAcl);
  else if (accountAcl === undefined || accountAcl === null) delete t.account_acl;
  else if (typeof accountAcl !== 'string') throw new InputError(`target.account_acl must be the ACL's JSON text or object, not ${JSON.stringify(accountAcl)}`);
  else if (accountAcl !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(accountAcl);
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed)) throw new InputError(`target.account_acl is not a JSON object: ${JSON.stringify(accountAcl)}`);
  }
  // Swift's req.acl: X-Container-Read for reads, X-Container-Write for object writes, nothing
  // for account requests and container writes; the other way round as requestTarget does.
  const read = t.method === 'GET' || t.method === 'HEAD';
  if (t.acl === undefined) {
    if (read && t.level !== 'account') t.acl = t.read_acl;
    else if (!read && t.level === 'object' && t.method !== 'OPTIONS') t.acl = t.write_acl;
    if (t.acl === undefined) delete t.acl;
  } else {
    if (t.read_acl === undefined && read) t.read_acl = t.acl;
    if (t.write_acl === undefined && !read) t.write_acl = t.acl;
  }
  return t as unknown as SwiftTarget;
}

/** The credentials as the filter builds them (tempauthCreds, keystoneCreds), what is left out filled in the filter's way. */
export function credsFrom(raw: Record<string, unknown>, setup: Pick<Setup, 'auth' | 'keystone'>): SwiftCreds {
  const c: Record<string, unknown> = { ...raw };
  const auth = field<string>('creds', raw, 'auth', 'string');
  if (auth !== undefined && auth !== 'tempauth' && auth !== 'keystone' && auth !== 'anonymous') throw new InputError(`creds.auth must be tempauth, keystone or anonymous, not ${JSON.stringify(auth)}`);
  if (auth !== undefined && auth !== 'anonymous' && auth !== setup.auth) {
    throw new InputError(`creds.auth is ${JSON.stringify(auth)} but these are ${setup.auth}'s rules (use --auth ${auth}, or a --config with that filter)`);
  }
  const flags = {
    is_reseller_admin: field<boolean>('creds', raw, 'is_reseller_admin', 'boolean'),
    is_reseller_reader: field<boolean>('creds', raw, 'is_reseller_reader', 'boolean'),
  };
  let roles = stringList('creds', raw, 'roles');
  if (setup.auth === 'tempauth') {
    const user = field<string>('creds', raw, 'user', 'string');
    let groups = stringList('creds', raw, 'groups');
    if (groups === undefined && user !== undefined) groups = user.includes(':') ? [user.slice(0, user.indexOf(':')), user] : [user];
    groups ??= [];
    roles ??= groups;
    c.auth = auth ?? (groups.length > 0 || user !== undefined ? 'tempauth' : 'anonymous');
    c.groups = groups;
    if (user === undefined && groups.length > 0) c.user = groups[1] ?? groups[0];
    flags.is_reseller_admin ??= groups.includes('.reseller_admin');
    flags.is_reseller_reader ??= groups.includes('.reseller_reader');
  } else {
    for (const key of ['user_id', 'user_name', 'user_domain_id', 'project_id', 'project_name', 'project_domain_id']) field<string>('creds', raw, key, 'string');
    c.service_roles = stringList('creds', raw, 'service_roles') ?? [];
    roles = (roles ?? []).map((r) => r.toLowerCase());
    c.auth = auth ?? (raw.user_id !== undefined && raw.user_id !== null ? 'keystone' : 'anonymous');
    const conf = setup.keystone!;
    flags.is_reseller_admin ??= roles.includes(conf.resellerAdminRole);
    flags.is_reseller_reader ??= roles.some((r) => conf.systemReaderRoles.has(r));
  }
  c.roles = roles;
  c.is_reseller_admin = flags.is_reseller_admin;
  c.is_reseller_reader = flags.is_reseller_reader;
  return c as unknown as SwiftCreds;
}

function check(args: string[], io: CliIo): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON, creds: { type: 'string' }, target: { type: 'string' } } });
  if (values.help) {
    io.out(POLICY_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`, POLICY_USAGE);
  const rawCreds = jsonArg('creds', values.creds);
  const rawTarget = jsonArg('target', values.target);
  const setup = setupFrom(values);
  const target = targetFrom(rawTarget);
  const creds = credsFrom(rawCreds, setup);
  const file = setup.policyFile === undefined ? undefined : readPolicyFile(setup.policyFile);
  let policy;
  try {
    // Strict, as the proxy loads it: a file with any problem stops the proxy from starting.
    policy = buildPolicy({ defaults: setup.defaults, checks: setup.checks, file }).policy;
  } catch (err) {
    if (err instanceof PolicyError) throw new PolicyFileError(`the proxy would refuse the policy (${err.issues.length} ${err.issues.length === 1 ? 'problem' : 'problems'}); "sluice policy lint" shows them all:`, err.issues);
    throw err;
  }
  let rule = positionals[0];
  if (rule === undefined) {
    if (typeof target.method !== 'string') throw new InputError('give RULE, or a target with a method (the rule is then swift:<level>:<method>)');
    rule = ruleFor(target.level, target.method, (name) => policy.rule(name) !== undefined);
  }
  if (policy.rule(rule) === undefined) {
    const near = nearestName(rule, policy.rules.map((r) => r.name));
    throw new InputError(`no rule ${JSON.stringify(rule)}${near === undefined ? '' : ` (did you mean ${JSON.stringify(near)}?)`}`);
  }
  const decision = policy.explain(rule, target as unknown as Target, creds as unknown as Credentials);
  io.out(`${decision.allowed ? 'allow' : 'deny'} ${rule}`);
  for (const line of formatDecision(decision).split('\n').slice(1)) io.out(line);
  return decision.allowed ? 0 : 1;
}

// ------------------------------------------------------------------------------------- lint

function lint(args: string[], io: CliIo): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: COMMON });
  if (values.help) {
    io.out(POLICY_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`, POLICY_USAGE);
  if (values.policy !== undefined) throw new UsageError('lint takes the policy file as FILE, not --policy', POLICY_USAGE);
  const setup = setupFrom(values);
  const path = positionals[0] ?? setup.policyFile;
  if (path === undefined) throw new UsageError('lint needs a policy FILE (or a --config whose filter names a policy_file)', POLICY_USAGE);
  const file = readPolicyFile(path);
  let lines: { source: string; line: number; text: string }[];
  try {
    // Compatible: loaded whatever its problems, as oslo.policy would, so all of them are found.
    const { policy, issues } = buildPolicy({ defaults: setup.defaults, checks: setup.checks, file, mode: 'compatible' });
    lines = [
      ...issues.map((i) => ({ source: i.source, line: i.line ?? 0, text: formatIssue(i) })),
      ...analyzePolicy(policy, { checks: setup.checks }).map((f) => ({ source: f.source, line: f.line ?? 0, text: formatFinding(f) })),
    ];
  } catch (err) {
    // A rule value oslo.policy cannot even load: reported with everything else found before it.
    if (!(err instanceof PolicyError)) throw err;
    lines = err.issues.map((i) => ({ source: i.source, line: i.line ?? 0, text: formatIssue(i) }));
  }
  const rank = (source: string) => (source === DEFAULTS_SOURCE ? 0 : 1);
  lines = lines.map((l, i) => ({ ...l, i })).sort((a, b) => rank(a.source) - rank(b.source) || a.line - b.line || a.i - b.i);
  for (const l of lines) emit(io.out, l.text);
  if (lines.length > 0) return 1;
  const own = [...file.rules.keys()].filter((name) => !setup.defaults.some((d) => d.name === name)).length;
  const n = file.rules.size;
  io.out(`${path}: no problems (${n} ${n === 1 ? 'rule' : 'rules'}: ${n - own} overriding ${setup.auth === 'keystone' ? 'keystoneauth' : 'tempauth'}'s defaults, ${own} of its own)`);
  return 0;
}

// ------------------------------------------------------------------------------------- command

export async function runPolicy(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(POLICY_USAGE);
    return 0;
  }
  const run = sub === 'list' ? list : sub === 'check' ? check : sub === 'lint' ? lint : undefined;
  if (run === undefined) throw new UsageError(sub === undefined ? 'policy needs a subcommand (list, check or lint)' : `unknown policy subcommand ${JSON.stringify(sub)}`, POLICY_USAGE);
  // Every failure is 2: check's 1 means "denied", lint's "problems found".
  try {
    return run(rest, io);
  } catch (err) {
    if (err instanceof InputError) io.err(`sluice: ${err.message}`);
    else if (err instanceof PolicyFileError) {
      io.err(`sluice: ${err.headline}`);
      for (const issue of err.issues) emit(io.err, formatIssue(issue));
    } else if (err instanceof ConfigError) io.err(`sluice: error: ${err.message}`);
    else throw err;
    return 2;
  }
}
