/**
 * What a Swift authorization rule is evaluated against: the request as a policy target (plain
 * data, so `sluice policy check` can take it as JSON) and the caller as credentials.
 *
 * Some target fields cost a lookup (the account's ACL, the container's sync key): the proxy
 * fills them lazily. Reading one that is not loaded yet throws NeedsData; the evaluation is
 * repeated once the data is there (evaluation is pure and cheap, lookups are not), so a request
 * the owner check already allowed never fetches account info.
 */
import type { Credentials, Target } from '../../policy';

export type SwiftLevel = 'account' | 'container' | 'object';

/** The request, as policy rules see it (`%(account)s`, `%(container)s`, ... in rule text). */
export interface SwiftTarget {
  readonly method: string;
  readonly level: SwiftLevel;
  readonly account: string;
  readonly container?: string;
  readonly object?: string;
  /** The Referer header, decoded. */
  readonly referer?: string;
  /**
   * The container ACL that governs the request, as Swift's req.acl: X-Container-Read for GET and
   * HEAD, X-Container-Write for writes to objects, none for account requests and container writes.
   */
  readonly acl?: string;
  /** The container's X-Container-Read and X-Container-Write, as stored, when the container is known. */
  readonly read_acl?: string;
  readonly write_acl?: string;
  /** The account's ACL (X-Account-Access-Control, v2 JSON), as stored. Loaded lazily. */
  readonly account_acl?: string;
  /** The request carries the container's sync key (legacy container sync). Loaded lazily. */
  readonly container_sync?: boolean;
  /** keystoneauth: whether the account exists and the project domain stored with it. Loaded lazily. */
  readonly account_exists?: boolean;
  readonly account_domain_id?: string;
  /** The ACLs the request sets (swift:acl:container:set, swift:acl:account:set), decoded. */
  readonly new_read_acl?: string;
  readonly new_write_acl?: string;
  readonly new_account_acl?: string;
}

/**
 * The caller. Under tempauth: `user` (`account:user`), `groups`, and `roles` (the same groups, so
 * `role:` checks work alike under both filters). Under keystoneauth: the token's `user_id`,
 * `user_name`, `user_domain_id`, `project_id`, `project_name`, `project_domain_id`, `roles`
 * (lowercased) and `service_roles` (of an X-Service-Token). Both: `auth` (`tempauth`,
 * `keystone`, or `anonymous`), `is_reseller_admin` and `is_reseller_reader` (keystoneauth's
 * system reader roles).
 */
export interface SwiftCreds {
  readonly auth: 'tempauth' | 'keystone' | 'anonymous';
  readonly roles: readonly string[];
  readonly is_reseller_admin: boolean;
  readonly is_reseller_reader: boolean;
  readonly [key: string]: unknown;
}

/** Thrown by a lazy target field that is not loaded: load, then evaluate again. */
export class NeedsData extends Error {
  constructor(
    readonly field: string,
    readonly load: () => Promise<void>,
  ) {
    super(`target field ${field} is not loaded`);
    this.name = 'NeedsData';
  }
}

export type LazyFields = {
  readonly [K in keyof SwiftTarget]?: () => Promise<SwiftTarget[K]>;
};

/** A target whose `lazy` fields are loaded on first use (see NeedsData). */
export function lazyTarget(base: SwiftTarget, lazy: LazyFields): SwiftTarget {
  const target: Record<string, unknown> = { ...base };
  for (const [field, loader] of Object.entries(lazy) as [string, () => Promise<unknown>][]) {
    let loaded = false;
    let value: unknown;
    const load = async () => {
      value = await loader();
      loaded = true;
    };
    Object.defineProperty(target, field, {
      enumerable: true,
      get() {
        if (!loaded) throw new NeedsData(field, load);
        return value;
      },
    });
  }
  return target as unknown as SwiftTarget;
}

export function levelOf(container: string | undefined, object: string | undefined): SwiftLevel {
  return object !== undefined ? 'object' : container !== undefined ? 'container' : 'account';
}

/**
 * The rule that decides a request: `swift:<level>:<method>`, e.g. `swift:object:get`; a method
 * with no rule of its own (the proxy's controllers only take GET, HEAD, PUT, POST, DELETE and
 * OPTIONS; middleware may ask about others) has `swift:<level>:other`.
 */
export function ruleFor(level: SwiftLevel, method: string, has: (name: string) => boolean = () => true): string {
  const name = `swift:${level}:${method.toLowerCase()}`;
  return has(name) ? name : `swift:${level}:other`;
}

export const asTarget = (t: SwiftTarget): Target => t as unknown as Target;
export const asCreds = (c: SwiftCreds): Credentials => c as unknown as Credentials;
export const fromTarget = (t: Target): SwiftTarget => t as unknown as SwiftTarget;
export const fromCreds = (c: Credentials): SwiftCreds => c as unknown as SwiftCreds;
