/**
 * POST /v3/auth/tokens: from the parsed `auth` object to a new token, in the order Keystone 22
 * checks things (api/_shared/authentication.py authenticate_for_token, auth/core.py AuthInfo,
 * auth/plugins/{password,token,application_credential}.py, models/token_model.py mint), so each
 * mistake gets the status and message Keystone gives it.
 */
import { PyNumber, type PyValue } from '../../compat/json';
import type { Domain, Project, User } from './directory';
import {
  applicationCredentialAuthError,
  authMethodNotSupported,
  forbiddenAction,
  KEYSTONE_AUTH_METHODS,
  notFound,
  schemaError,
  unauthorized,
  validationError,
} from './errors';
import { tokenRoles, type RenderContext } from './render';
import { checkTokenIssueBody } from './schema';
import { newAuditId, TOKEN_PROBLEM_MESSAGES, type TokenRecord, type TokenScope, type TokenStore } from './tokens';

export interface IssueContext extends RenderContext {
  tokens: TokenStore;
  ttlMs: number;
}

/** What the scope part of the request asked for; `default` means nothing was asked. */
type RequestedScope = TokenScope | { kind: 'default' };

/** What the auth methods established (Keystone's AuthContext). */
interface AuthContextData {
  userId?: string;
  expiresAt?: number;
  parentAuditId?: string;
  appCredId?: string;
  methodNames: string[];
}

// --- Python's view of parsed JSON ---

function get(v: PyValue | undefined, key: string): PyValue | undefined {
  return v instanceof Map ? v.get(key) : undefined;
}

/** Python's `key in value`: a dict key, or a substring of a str (how Keystone reads `"scope": "unscoped"`). */
function contains(v: PyValue | undefined, key: string): boolean {
  if (v instanceof Map) return v.has(key);
  if (typeof v === 'string') return v.includes(key);
  return false;
}

function truthy(v: PyValue | undefined): boolean {
  if (v === undefined || v === null || v === false || v === '') return false;
  if (v instanceof PyNumber) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}

/** A looked-up name or id: only a str can match anything stored. */
function text(v: PyValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Python's `'%s' % value` for a value echoed in a message. */
function pyStr(v: PyValue | undefined): string {
  if (typeof v === 'string') return v;
  if (v instanceof PyNumber) return v.repr;
  if (v === true) return 'True';
  if (v === false) return 'False';
  return 'None';
}

/** Keystone's time resolution for tokens: whole seconds. */
function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

export class Authenticator {
  constructor(private readonly ctx: IssueContext) {}

  /** Issues a token for `auth` (the body's `auth` member, undefined when absent) or throws a KeystoneError. */
  authenticate(auth: PyValue | undefined): TokenRecord {
    const detail = checkTokenIssueBody(auth);
    if (detail !== null) throw schemaError(detail);
    if (!truthy(auth)) throw validationError('auth', 'request body');
    const identity = get(auth, 'identity')!;
    const methods = this.methodNames(identity);
    const requested = this.requestedScope(auth!, identity, methods);

    const context: AuthContextData = { methodNames: [] };
    for (const method of methods) this.runMethod(method, get(identity, method), auth!, context);
    // no method ran (an empty list): "User not found by auth plugin"
    if (context.userId === undefined) throw unauthorized();

    const user = this.ctx.directory.userById(context.userId)!;
    const scope = requested.kind === 'default' ? this.defaultScope(user) : requested;
    return this.issue(user, scope, {
      methods: context.methodNames,
      expiresAt: context.expiresAt,
      parentAuditId: context.parentAuditId,
      appCredId: context.appCredId ?? null,
    });
  }

  /** Makes the token (issue_token + mint): roles must exist on a scope, or 401. */
  issue(
    user: User,
    scope: TokenScope,
    options: { methods: string[]; expiresAt?: number; parentAuditId?: string; appCredId: string | null; ttlMs?: number },
  ): TokenRecord {
    const now = Date.now();
    let expiresAt = options.expiresAt ?? wholeSeconds(now + (options.ttlMs ?? this.ctx.ttlMs));
    if (options.appCredId) {
      const cred = this.ctx.directory.applicationCredentialById(options.appCredId)!;
      if (cred.expiresAt !== null && expiresAt > cred.expiresAt) expiresAt = wholeSeconds(cred.expiresAt);
    }
    if (scope.kind !== 'unscoped' && tokenRoles(this.ctx, { scope, appCredId: options.appCredId }, user).length === 0) {
      throw unauthorized(); // "User ... has no access to project/domain/the system"
    }
    return this.ctx.tokens.add({
      userId: user.id,
      methods: [...new Set(options.methods)],
      auditIds: options.parentAuditId ? [newAuditId(), options.parentAuditId] : [newAuditId()],
      issuedAt: wholeSeconds(now),
      expiresAt,
      scope,
      appCredId: options.appCredId,
    });
  }

  /** Scoping without a scope in the request: the default project if the user has a role there, else unscoped. */
  defaultScope(user: User): TokenScope {
    const { directory } = this.ctx;
    const project = user.defaultProjectId ? directory.projectById(user.defaultProjectId) : undefined;
    if (!project || !project.enabled || !directory.domainByRef(project.domainId)?.enabled) return { kind: 'unscoped' };
    if (directory.projectRolesOf(user, project.id).length === 0) return { kind: 'unscoped' };
    return { kind: 'project', projectId: project.id };
  }

  // --- AuthInfo._validate_auth_methods ---

  private methodNames(identity: PyValue): string[] {
    const listed = get(identity, 'methods') as string[];
    const methods = [...new Set(listed)];
    for (const m of methods) if (!contains(identity, m)) throw validationError(m, 'identity');
    for (const m of methods) if (!KEYSTONE_AUTH_METHODS.includes(m)) throw authMethodNotSupported();
    return methods;
  }

  // --- AuthInfo._validate_and_normalize_scope_data ---

  private requestedScope(auth: PyValue, identity: PyValue, methods: string[]): RequestedScope {
    if (methods.includes('application_credential')) {
      if (contains(auth, 'scope')) throw applicationCredentialAuthError('Application credentials cannot request a scope.');
      const cred = this.lookupApplicationCredential(get(identity, 'application_credential'));
      return { kind: 'project', projectId: cred.projectId };
    }
    if (!contains(auth, 'scope')) return { kind: 'default' };
    const scope = get(auth, 'scope')!;
    const asked = ['project', 'domain', 'unscoped', 'system', 'OS-TRUST:trust'].filter((k) => contains(scope, k));
    // a str naming a scope other than unscoped is one Keystone cannot read either (it fails with a 500)
    if (asked.length !== 1 || (typeof scope === 'string' && asked[0] !== 'unscoped')) {
      throw validationError('system, project, domain, OS-TRUST:trust or unscoped', 'scope');
    }
    switch (asked[0]) {
      case 'system':
        return { kind: 'system' };
      case 'unscoped':
        return { kind: 'unscoped' };
      case 'project':
        return { kind: 'project', projectId: this.lookupProject(get(scope, 'project')).id };
      case 'domain':
        return { kind: 'domain', domainId: this.lookupDomain(get(scope, 'domain')).id };
      default: {
        // OS-TRUST:trust: the fake has no trusts; Keystone answers an unknown one with 401
        if (!truthy(get(get(scope, 'OS-TRUST:trust'), 'id'))) throw validationError('trust_id', 'trust');
        throw unauthorized();
      }
    }
  }

  /** AuthInfo._lookup_domain: by name if one is given, else by id; unknown or disabled is 401. */
  private lookupDomain(info: PyValue | undefined): Domain {
    const { directory } = this.ctx;
    const name = get(info, 'name');
    const domain = truthy(name) ? directory.domainByName(text(name) ?? '') : directory.domainByRef(text(get(info, 'id')) ?? '');
    if (!domain || !domain.enabled) throw unauthorized();
    return domain;
  }

  /** AuthInfo._lookup_project: a name needs its domain (400 without); unknown or disabled is 401. */
  private lookupProject(info: PyValue | undefined): Project {
    const { directory } = this.ctx;
    const name = get(info, 'name');
    let project: Project | undefined;
    if (truthy(name)) {
      if (!contains(info, 'domain')) throw validationError('domain', 'project');
      const domain = this.lookupDomain(get(info, 'domain'));
      project = directory.projectByName(text(name) ?? '', domain.id);
    } else {
      project = directory.projectById(text(get(info, 'id')) ?? '');
      if (project && !directory.domainByRef(project.domainId)!.enabled) throw unauthorized();
    }
    if (!project || !project.enabled) throw unauthorized();
    return project;
  }

  /** AuthInfo._lookup_app_cred: by id (unknown is 404), or by name and its user. */
  private lookupApplicationCredential(info: PyValue | undefined) {
    const { directory } = this.ctx;
    const id = get(info, 'id');
    if (truthy(id)) {
      const cred = directory.applicationCredentialById(text(id) ?? '');
      if (!cred) throw notFound(`Could not find Application Credential: ${pyStr(id)}.`);
      return cred;
    }
    const name = get(info, 'name');
    if (!truthy(name)) throw validationError('name or ID', 'application credential');
    const user = get(info, 'user');
    if (!truthy(user)) throw validationError('user', 'application credential');
    let userId = get(user, 'id');
    if (!truthy(userId)) {
      if (!contains(user, 'domain')) throw validationError('domain', 'user');
      const domain = this.lookupDomain(get(user, 'domain'));
      const owner = directory.userByName(text(get(user, 'name')) ?? '', domain.id);
      if (!owner) throw notFound(`Could not find user: ${pyStr(get(user, 'name'))}.`);
      userId = owner.id;
    }
    const found = directory.applicationCredentialsByName(text(userId) ?? '', text(name) ?? '');
    if (found.length !== 1) throw unauthorized();
    return found[0]!;
  }

  // --- the methods ---

  private runMethod(method: string, payload: PyValue | undefined, auth: PyValue, context: AuthContextData): void {
    let result: { userId: string; expiresAt?: number; parentAuditId?: string; appCredId?: string; methodNames?: string[] };
    switch (method) {
      case 'password':
        result = { userId: this.password(payload) };
        break;
      case 'token':
        result = this.token(payload, auth);
        break;
      case 'application_credential':
        result = this.applicationCredential(payload);
        break;
      default:
        // external, oauth1, mapped: enabled in Keystone, but nothing here can satisfy them
        throw unauthorized();
    }
    context.methodNames.unshift(method);
    context.methodNames.push(...(result.methodNames ?? []));
    // AuthContext: identity attributes must agree between methods; the earliest expiry wins
    if (context.userId !== undefined && context.userId !== result.userId) throw unauthorized();
    context.userId = result.userId;
    if (result.expiresAt !== undefined) context.expiresAt = Math.min(context.expiresAt ?? Infinity, result.expiresAt);
    if (result.parentAuditId !== undefined) context.parentAuditId = result.parentAuditId;
    if (result.appCredId !== undefined) context.appCredId = result.appCredId;
  }

  /** auth/plugins/core.py BaseUserInfo: the user by id, or by name in a domain; enabled. */
  private lookupUser(payload: PyValue | undefined, methodName: string): User {
    const { directory } = this.ctx;
    if (!contains(payload, 'user') || typeof payload === 'string') throw validationError('user', methodName);
    const info = get(payload, 'user');
    const id = get(info, 'id');
    const name = get(info, 'name');
    if (!truthy(id) && !truthy(name)) throw validationError('id or name', 'user');
    let user: User | undefined;
    if (truthy(name)) {
      if (!contains(info, 'domain')) throw validationError('domain', 'user');
      const domainInfo = get(info, 'domain');
      if (!truthy(get(domainInfo, 'id')) && !truthy(get(domainInfo, 'name'))) throw validationError('id or name', 'domain');
      const domain = this.lookupDomain(domainInfo);
      user = directory.userByName(text(name) ?? '', domain.id);
    } else {
      user = directory.userById(text(id) ?? '');
      if (user && !directory.domainByRef(user.domainId)!.enabled) throw unauthorized();
    }
    if (!user || !user.enabled) throw unauthorized();
    return user;
  }

  private password(payload: PyValue | undefined): string {
    // Keystone has not named the method yet when it asks for the user: "Expecting to find user in None."
    const user = this.lookupUser(payload, 'None');
    if (!this.ctx.directory.checkPassword(user.id, get(get(payload, 'user'), 'password'))) throw unauthorized();
    return user.id;
  }

  private token(payload: PyValue | undefined, auth: PyValue) {
    const checked = this.ctx.tokens.check(text(get(payload, 'id')), 0);
    if (typeof checked === 'string') throw notFound(TOKEN_PROBLEM_MESSAGES[checked]);
    const requested = get(auth, 'scope');
    if (checked.appCredId) throw forbiddenAction('Using a delegated token to create another token is not allowed.');
    if (checked.scope.kind === 'system' && (contains(requested, 'project') || contains(requested, 'domain'))) {
      throw forbiddenAction('Using a system-scoped token to create a project-scoped or domain-scoped token is not allowed.');
    }
    return {
      userId: checked.userId,
      expiresAt: checked.expiresAt,
      parentAuditId: checked.auditIds[1] ?? checked.auditIds[0]!,
      methodNames: checked.methods,
    };
  }

  private applicationCredential(payload: PyValue | undefined) {
    const { directory } = this.ctx;
    // the scope step found it already (by id, or by name and user)
    const cred = this.lookupApplicationCredential(payload);
    const user = directory.userById(cred.userId)!;
    if (!directory.domainByRef(user.domainId)!.enabled || !user.enabled) throw unauthorized();
    if (cred.expiresAt !== null && Date.now() >= cred.expiresAt) throw unauthorized();
    if (!directory.checkSecret(cred.id, get(payload, 'secret'))) throw unauthorized();
    return { userId: user.id, appCredId: cred.id };
  }
}
