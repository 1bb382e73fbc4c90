/**
 * What a v3 token object says, read as keystoneauth1's AccessInfoV3 reads it: the user, the
 * project, domain or system scope, the role names (Keystone already lists implied roles),
 * is_admin_project (true when Keystone leaves it out), expires_at, bind, the catalog and an
 * application credential's access rules. A token object missing what every token has (a user
 * id, expires_at) is "invalid token contents" to keystonemiddleware: undefined here.
 */
import type { KeystoneIdentity } from '../../proxy/context';

export interface AccessRule {
  method: string;
  path: string;
  service: string;
}

export interface TokenInfo {
  identity: KeystoneIdentity;
  /** The token's bind section (keystonemiddleware's _confirm_token_bind), if any. */
  bind: Record<string, unknown> | undefined;
  /** The catalog's service types; undefined when the token came without a catalog. */
  catalogTypes: ReadonlySet<string> | undefined;
  /** The catalog as Keystone gave it (v3 services), undefined without one. */
  catalog: unknown[] | undefined;
  /** Access rules of an application-credential token; undefined when it has none. */
  accessRules: AccessRule[] | undefined;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

const ISO = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?(Z|[+-]\d\d(?::?\d\d)?)?$/i;

/** An ISO 8601 time as Keystone writes it (2024-01-01T00:00:00.000000Z) in epoch ms; naive is UTC, as in keystoneauth. */
export function parseIsoTime(value: string): number | undefined {
  const m = ISO.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '0', frac = '', zone = 'Z'] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(`0.${frac || '0'}`) * 1000);
  if (Number.isNaN(ms)) return undefined;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
    ms -= sign * offset * 60_000;
  }
  return ms;
}

function accessRulesOf(token: Obj): AccessRule[] | undefined {
  const cred = obj(token.application_credential);
  if (!cred || !Array.isArray(cred.access_rules)) return undefined;
  return cred.access_rules.map((r) => {
    const rule = obj(r) ?? {};
    return { method: text(rule.method) ?? '', path: text(rule.path) ?? '', service: text(rule.service) ?? '' };
  });
}

export function parseTokenInfo(token: Obj): TokenInfo | undefined {
  const user = obj(token.user);
  const userId = text(user?.id);
  const expiresAt = text(token.expires_at) === undefined ? undefined : parseIsoTime(token.expires_at as string);
  if (!user || !userId || expiresAt === undefined) return undefined;
  const userDomain = obj(user.domain);
  const project = obj(token.project);
  const projectDomain = obj(project?.domain);
  const domain = obj(token.domain);
  const system = obj(token.system);
  const roles = Array.isArray(token.roles) ? token.roles.map((r) => text(obj(r)?.name)).filter((n): n is string => n !== undefined) : [];
  const catalog = Array.isArray(token.catalog) ? token.catalog : undefined;
  const identity: KeystoneIdentity = {
    userId,
    userName: text(user.name) ?? '',
    userDomainId: text(userDomain?.id) ?? '',
    userDomainName: text(userDomain?.name) ?? '',
    projectId: text(project?.id),
    projectName: text(project?.name),
    projectDomainId: text(projectDomain?.id),
    projectDomainName: text(projectDomain?.name),
    domainId: text(domain?.id),
    domainName: text(domain?.name),
    systemScope: system?.all === true ? 'all' : undefined,
    roles,
    // AccessInfoV3.is_admin_project: true unless Keystone says otherwise.
    isAdminProject: token.is_admin_project !== false,
    expiresAt,
  };
  return {
    identity,
    bind: obj(token.bind),
    catalogTypes: catalog ? new Set(catalog.map((s) => text(obj(s)?.type)).filter((t): t is string => t !== undefined)) : undefined,
    catalog,
    accessRules: accessRulesOf(token),
  };
}
