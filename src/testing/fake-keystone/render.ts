/**
 * A token as Keystone renders it (common/render_token.py render_token_response_from_model): the
 * same keys in the same order, roles computed when rendered (Fernet tokens carry no roles, so
 * Keystone reads the assignments on every validation) with implied roles included.
 */
import type { Catalog } from './catalog';
import type { Directory, Role, User } from './directory';
import { keystoneTime, type TokenRecord } from './tokens';
import type { FakeKeystoneAdminProject } from './types';

export interface RenderContext {
  directory: Directory;
  catalog: Catalog;
  adminProject: FakeKeystoneAdminProject | null;
}

/**
 * The roles a token carries now: those on its scope, or for an application credential those of
 * the credential its user still has there (token_model.py). Empty means the token is no good.
 */
export function tokenRoles(ctx: RenderContext, token: Pick<TokenRecord, 'scope' | 'appCredId'>, user: User): Role[] {
  const { directory } = ctx;
  switch (token.scope.kind) {
    case 'system':
      return directory.systemRolesOf(user);
    case 'domain':
      return directory.domainRolesOf(user, token.scope.domainId);
    case 'project': {
      const have = directory.projectRolesOf(user, token.scope.projectId);
      if (!token.appCredId) return have;
      const cred = directory.applicationCredentialById(token.appCredId);
      const haveIds = new Set(have.map((r) => r.id));
      return (cred?.roleIds ?? []).filter((id) => haveIds.has(id)).map((id) => directory.roleById(id)!);
    }
    case 'unscoped':
      return [];
  }
}

export function renderToken(ctx: RenderContext, token: TokenRecord, includeCatalog: boolean): { token: Record<string, unknown> } {
  const { directory, catalog } = ctx;
  const user = directory.userById(token.userId)!;
  const userDomain = directory.domainByRef(user.domainId)!;
  const roles = tokenRoles(ctx, token, user).map((r) => ({ id: r.id, name: r.name }));
  const body: Record<string, unknown> = {
    methods: token.methods,
    user: {
      domain: { id: userDomain.id, name: userDomain.name },
      id: user.id,
      name: user.name,
      password_expires_at: user.passwordExpiresAt,
    },
    audit_ids: token.auditIds,
    expires_at: keystoneTime(token.expiresAt),
    issued_at: keystoneTime(token.issuedAt),
  };
  let projectId: string | null = null;
  switch (token.scope.kind) {
    case 'system':
      body.roles = roles;
      body.system = { all: true };
      break;
    case 'domain': {
      const domain = directory.domainByRef(token.scope.domainId)!;
      body.domain = { id: domain.id, name: domain.name };
      body.roles = roles;
      break;
    }
    case 'project': {
      const project = directory.projectById(token.scope.projectId)!;
      const projectDomain = directory.domainByRef(project.domainId)!;
      projectId = project.id;
      body.project = { domain: { id: projectDomain.id, name: projectDomain.name }, id: project.id, name: project.name };
      body.is_domain = false;
      body.roles = roles;
      // only when [resource] admin_project_name and admin_project_domain_name are both set
      if (ctx.adminProject) {
        body.is_admin_project = project.name === ctx.adminProject.name && projectDomain.name === ctx.adminProject.domain;
      }
      break;
    }
    case 'unscoped':
      break;
  }
  if (includeCatalog && token.scope.kind !== 'unscoped') body.catalog = catalog.render(user.id, projectId);
  if (token.appCredId) {
    const cred = directory.applicationCredentialById(token.appCredId)!;
    body.application_credential = { id: cred.id, name: cred.name, restricted: !cred.unrestricted };
  }
  return { token: body };
}
