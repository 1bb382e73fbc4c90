/**
 * Grantees for Keystone identities, `<project>:<user>` where each side is an id, a name or `*`,
 * as Swift's keystoneauth matches them in container ACLs (_authorize_cross_tenant), and the
 * grammar sluice accepts for account ACLs (X-Account-Access-Control) under keystoneauth.
 */

export interface KeystoneAclIdentity {
  projectId: string | undefined;
  projectName: string | undefined;
  userId: string;
  userName: string;
}

/**
 * The grantee strings this identity matches, in keystoneauth's order: project id, `*`, then
 * project name (names only when allowed), each with user id, `*`, user name.
 */
export function keystoneAclIdentities(who: KeystoneAclIdentity, allowNames: boolean): string[] {
  const projects: (string | undefined)[] = [who.projectId, '*'];
  const users: (string | undefined)[] = [who.userId, '*'];
  if (allowNames) {
    projects.push(who.projectName);
    users.push(who.userName);
  }
  const out: string[] = [];
  // Python formats None as "None"; an unscoped identity has no project to match (sluice).
  for (const p of projects) for (const u of users) if (p !== undefined && u !== undefined) out.push(`${p}:${u}`);
  return out;
}

/**
 * Keystone's generated ids: uuid4 hex (projects, users of the SQL backend), or the sha256 hex
 * of the id mapping (LDAP and federated users).
 */
const KEYSTONE_ID = /^(?:[0-9a-f]{32}|[0-9a-f]{64})$/;

/** True when a grantee part can only be a name: neither `*` nor shaped like a Keystone id. */
export function isNamePart(part: string): boolean {
  return part !== '*' && !KEYSTONE_ID.test(part);
}

/**
 * What is wrong with one account-ACL grantee under keystoneauth, or undefined. `namesRefused`
 * is why names cannot match for this account (allow_names_in_acls off, or the account's project
 * outside the default domain), or undefined when they can.
 */
export function keystoneAccountGranteeError(grantee: string, namesRefused: string | undefined): string | undefined {
  const colon = grantee.indexOf(':');
  if (colon <= 0 || colon === grantee.length - 1) {
    return `grantee ${JSON.stringify(grantee)} is not <project>:<user> (a Keystone id or name on each side, or * for any user of a project)`;
  }
  const project = grantee.slice(0, colon);
  const user = grantee.slice(colon + 1);
  if (project === '*' && user === '*') return 'grantee "*:*" would grant every Keystone user; name a project or a user';
  if (namesRefused && (isNamePart(project) || isNamePart(user))) {
    return `grantee ${JSON.stringify(grantee)} names a project or user, and names cannot match here: ${namesRefused}; use <project_id>:<user_id>`;
  }
  return undefined;
}
