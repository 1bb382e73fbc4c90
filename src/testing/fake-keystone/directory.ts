/**
 * The fake's identity data: domains, projects, roles (with implications), users and their
 * assignments, application credentials. Built once from the options; lookups by id and by name
 * as Keystone's resource, identity, assignment and application-credential APIs answer them.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type {
  FakeKeystoneApplicationCredentialOptions,
  FakeKeystoneIds,
  FakeKeystoneOptions,
  FakeKeystoneUserOptions,
} from './types';

export interface Domain {
  id: string;
  name: string;
  enabled: boolean;
}

export interface Project {
  id: string;
  name: string;
  domainId: string;
  enabled: boolean;
}

export interface Role {
  id: string;
  name: string;
  /** Ids of the roles it implies directly. */
  implies: string[];
}

export interface User {
  id: string;
  name: string;
  domainId: string;
  enabled: boolean;
  defaultProjectId: string | null;
  passwordExpiresAt: string | null;
  /** Direct role ids per project id. */
  projectRoles: Map<string, string[]>;
  /** Direct role ids per domain id. */
  domainRoles: Map<string, string[]>;
  systemRoles: string[];
}

export interface ApplicationCredential {
  id: string;
  name: string;
  userId: string;
  projectId: string;
  roleIds: string[];
  unrestricted: boolean;
  /** ms since the epoch, or null for never. */
  expiresAt: number | null;
}

/** 32 lower-case hex digits, as Keystone's uuid.uuid4().hex ids. */
export function newId(): string {
  return randomUUID().replace(/-/g, '');
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Keystone's bootstrap roles and their implications (admin ⇒ member ⇒ reader). */
const BOOTSTRAP_ROLES: ReadonlyArray<{ name: string; implies: string[] }> = [
  { name: 'admin', implies: ['member'] },
  { name: 'member', implies: ['reader'] },
  { name: 'reader', implies: [] },
];

export class Directory {
  private readonly domains = new Map<string, Domain>();
  private readonly projects = new Map<string, Project>();
  private readonly roles = new Map<string, Role>();
  private readonly users = new Map<string, User>();
  private readonly appCreds = new Map<string, ApplicationCredential>();
  /** Digests of passwords (by user id) and secrets (by credential id): the plain texts are not kept. */
  private readonly passwords = new Map<string, Buffer>();
  private readonly secrets = new Map<string, Buffer>();

  constructor(options: FakeKeystoneOptions) {
    this.addDomain({ id: 'default', name: 'Default', enabled: true });
    for (const d of options.domains ?? []) {
      if (d.name === 'Default') {
        if (d.id !== undefined && d.id !== 'default') throw new TypeError('startFakeKeystone: domain Default always has id "default"');
        this.domainByRef('default')!.enabled = d.enabled ?? true;
        continue;
      }
      this.addDomain({ id: d.id ?? newId(), name: d.name, enabled: d.enabled ?? true });
    }
    for (const p of options.projects) {
      const domainId = this.requireDomain(p.domain ?? 'Default', `project ${p.name}`).id;
      if (this.projectByName(p.name, domainId)) throw new TypeError(`startFakeKeystone: two projects named ${p.name} in one domain`);
      this.add(this.projects, { id: p.id ?? newId(), name: p.name, domainId, enabled: p.enabled ?? true }, 'project');
    }
    this.addRoles(options);
    for (const u of options.users) this.addUser(u);
    for (const a of options.applicationCredentials ?? []) this.addApplicationCredential(a);
  }

  private add<T extends { id: string }>(map: Map<string, T>, item: T, what: string): void {
    if (typeof item.id !== 'string' || item.id === '') throw new TypeError(`startFakeKeystone: empty ${what} id`);
    if (map.has(item.id)) throw new TypeError(`startFakeKeystone: two ${what}s with id ${item.id}`);
    map.set(item.id, item);
  }

  private addDomain(d: Domain): void {
    if ([...this.domains.values()].some((x) => x.name === d.name)) throw new TypeError(`startFakeKeystone: two domains named ${d.name}`);
    this.add(this.domains, d, 'domain');
  }

  private addRoles(options: FakeKeystoneOptions): void {
    const listed = new Map((options.roles ?? []).map((r) => [r.name, r]));
    if (listed.size !== (options.roles ?? []).length) throw new TypeError('startFakeKeystone: two roles with one name');
    const all = [
      ...BOOTSTRAP_ROLES.map((b) => ({ name: b.name, id: listed.get(b.name)?.id, implies: [...b.implies, ...(listed.get(b.name)?.implies ?? [])] })),
      ...[...listed.values()].filter((r) => !BOOTSTRAP_ROLES.some((b) => b.name === r.name)).map((r) => ({ name: r.name, id: r.id, implies: r.implies ?? [] })),
    ];
    for (const r of all) this.add(this.roles, { id: r.id ?? newId(), name: r.name, implies: [] }, 'role');
    for (const r of all) {
      const role = this.roleByName(r.name)!;
      role.implies = [...new Set(r.implies)].map((n) => this.requireRole(n, `role ${r.name}`).id);
    }
  }

  private addUser(u: FakeKeystoneUserOptions): void {
    if (typeof u.password !== 'string') throw new TypeError(`startFakeKeystone: user ${u.name} needs a password`);
    const domainId = this.requireDomain(u.domain ?? 'Default', `user ${u.name}`).id;
    if (this.userByName(u.name, domainId)) throw new TypeError(`startFakeKeystone: two users named ${u.name} in one domain`);
    const what = `user ${u.name}`;
    const user: User = {
      id: u.id ?? newId(),
      name: u.name,
      domainId,
      enabled: u.enabled ?? true,
      defaultProjectId: u.defaultProject === undefined ? null : this.requireProject(u.defaultProject, what).id,
      passwordExpiresAt: u.passwordExpiresAt ?? null,
      projectRoles: new Map(),
      domainRoles: new Map(),
      systemRoles: (u.systemRoles ?? []).map((n) => this.requireRole(n, what).id),
    };
    for (const [ref, names] of Object.entries(u.roles ?? {})) {
      user.projectRoles.set(this.requireProject(ref, what).id, names.map((n) => this.requireRole(n, what).id));
    }
    for (const [ref, names] of Object.entries(u.domainRoles ?? {})) {
      user.domainRoles.set(this.requireDomain(ref, what).id, names.map((n) => this.requireRole(n, what).id));
    }
    this.add(this.users, user, 'user');
    this.passwords.set(user.id, digest(u.password));
  }

  private addApplicationCredential(a: FakeKeystoneApplicationCredentialOptions): void {
    const what = `application credential ${a.name}`;
    if (typeof a.secret !== 'string') throw new TypeError(`startFakeKeystone: ${what} needs a secret`);
    const user = this.userById(a.user) ?? this.uniqueUserByName(a.user);
    if (!user) throw new TypeError(`startFakeKeystone: ${what}: no user ${a.user} (or the name is in several domains: use the id)`);
    if ([...this.appCreds.values()].some((c) => c.userId === user.id && c.name === a.name)) {
      throw new TypeError(`startFakeKeystone: user ${user.name} has two application credentials named ${a.name}`);
    }
    const projectRef = a.project ?? user.defaultProjectId;
    if (projectRef === null) throw new TypeError(`startFakeKeystone: ${what}: no project and its user has no defaultProject`);
    const projectId = this.requireProject(projectRef, what).id;
    const roleIds = a.roles
      ? a.roles.map((n) => this.requireRole(n, what).id)
      : this.effectiveRoles(user.projectRoles.get(projectId) ?? []).map((r) => r.id);
    if (roleIds.length === 0) throw new TypeError(`startFakeKeystone: ${what}: its user has no role on the project`);
    let expiresAt: number | null = null;
    if (a.expiresAt != null) {
      expiresAt = a.expiresAt instanceof Date ? a.expiresAt.getTime() : Date.parse(a.expiresAt);
      if (Number.isNaN(expiresAt)) throw new TypeError(`startFakeKeystone: ${what}: expiresAt is not a time`);
    }
    const cred: ApplicationCredential = { id: a.id ?? newId(), name: a.name, userId: user.id, projectId, roleIds, unrestricted: a.unrestricted ?? false, expiresAt };
    this.add(this.appCreds, cred, 'application credential');
    this.secrets.set(cred.id, digest(a.secret));
  }

  // --- references in the options (name or id), which throw: a mistake in a test's set-up ---

  private requireDomain(ref: string, what: string): Domain {
    const d = this.domainByRef(ref) ?? this.domainByName(ref);
    if (!d) throw new TypeError(`startFakeKeystone: ${what}: no domain ${ref}`);
    return d;
  }

  private requireProject(ref: string, what: string): Project {
    const found = this.projectByRef(ref);
    if (found) return found;
    const named = [...this.projects.values()].filter((p) => p.name === ref).length;
    throw new TypeError(`startFakeKeystone: ${what}: ${named ? 'several projects are' : 'no project is'} named ${ref} (use domain/name or the id)`);
  }

  private requireRole(name: string, what: string): Role {
    const r = this.roleByName(name);
    if (!r) throw new TypeError(`startFakeKeystone: ${what}: no role ${name} (list it in roles)`);
    return r;
  }

  // --- lookups as Keystone's APIs answer them ---

  domainByRef(id: string): Domain | undefined {
    return this.domains.get(id);
  }

  domainByName(name: string): Domain | undefined {
    return [...this.domains.values()].find((d) => d.name === name);
  }

  projectById(id: string): Project | undefined {
    return this.projects.get(id);
  }

  projectByName(name: string, domainId: string): Project | undefined {
    return [...this.projects.values()].find((p) => p.name === name && p.domainId === domainId);
  }

  /** A project by id, by `domain/name` (domain name or id), or by a name no other domain uses. */
  projectByRef(ref: string): Project | undefined {
    const byId = this.projects.get(ref);
    if (byId) return byId;
    const slash = ref.indexOf('/');
    if (slash > 0) {
      const domain = this.domainByName(ref.slice(0, slash)) ?? this.domainByRef(ref.slice(0, slash));
      const project = domain && this.projectByName(ref.slice(slash + 1), domain.id);
      if (project) return project;
    }
    const named = [...this.projects.values()].filter((p) => p.name === ref);
    return named.length === 1 ? named[0] : undefined;
  }

  userById(id: string): User | undefined {
    return this.users.get(id);
  }

  userByName(name: string, domainId: string): User | undefined {
    return [...this.users.values()].find((u) => u.name === name && u.domainId === domainId);
  }

  uniqueUserByName(name: string): User | undefined {
    const named = [...this.users.values()].filter((u) => u.name === name);
    return named.length === 1 ? named[0] : undefined;
  }

  roleById(id: string): Role | undefined {
    return this.roles.get(id);
  }

  roleByName(name: string): Role | undefined {
    return [...this.roles.values()].find((r) => r.name === name);
  }

  applicationCredentialById(id: string): ApplicationCredential | undefined {
    return this.appCreds.get(id);
  }

  applicationCredentialsByName(userId: string, name: string): ApplicationCredential[] {
    return [...this.appCreds.values()].filter((c) => c.userId === userId && c.name === name);
  }

  /** Whether `password` is the user's; the comparison takes the same time wherever they differ. */
  checkPassword(userId: string, password: unknown): boolean {
    const want = this.passwords.get(userId);
    if (!want || typeof password !== 'string') return false;
    return timingSafeEqual(want, digest(password));
  }

  checkSecret(appCredId: string, secret: unknown): boolean {
    const want = this.secrets.get(appCredId);
    if (!want || typeof secret !== 'string') return false;
    return timingSafeEqual(want, digest(secret));
  }

  /**
   * The direct roles and every role they imply, transitively, each once: Keystone's effective
   * roles (assignment_api with implied roles expanded), direct ones first.
   */
  effectiveRoles(direct: readonly string[]): Role[] {
    const seen = new Set<string>();
    const out: Role[] = [];
    const queue = [...direct];
    while (queue.length) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const role = this.roles.get(id);
      if (!role) continue;
      out.push(role);
      queue.push(...role.implies);
    }
    return out;
  }

  projectRolesOf(user: User, projectId: string): Role[] {
    return this.effectiveRoles(user.projectRoles.get(projectId) ?? []);
  }

  domainRolesOf(user: User, domainId: string): Role[] {
    return this.effectiveRoles(user.domainRoles.get(domainId) ?? []);
  }

  systemRolesOf(user: User): Role[] {
    return this.effectiveRoles(user.systemRoles);
  }

  ids(): Omit<FakeKeystoneIds, 'services'> {
    const domainName = (id: string) => this.domains.get(id)!.name;
    const byName = <T extends { id: string; name: string }>(items: T[], prefix: (t: T) => string) => {
      const out: Record<string, string> = {};
      const count = new Map<string, number>();
      for (const t of items) count.set(t.name, (count.get(t.name) ?? 0) + 1);
      for (const t of items) {
        out[`${prefix(t)}/${t.name}`] = t.id;
        if (count.get(t.name) === 1) out[t.name] = t.id;
      }
      return out;
    };
    return {
      domains: Object.fromEntries([...this.domains.values()].map((d) => [d.name, d.id])),
      projects: byName([...this.projects.values()], (p) => domainName(p.domainId)),
      users: byName([...this.users.values()], (u) => domainName(u.domainId)),
      roles: Object.fromEntries([...this.roles.values()].map((r) => [r.name, r.id])),
      applicationCredentials: byName([...this.appCreds.values()], (c) => this.users.get(c.userId)!.name),
    };
  }
}
