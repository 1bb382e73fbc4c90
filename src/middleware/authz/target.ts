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

/**
 * Thrown by a lazy target field that is not loaded: load, then evaluate again. Not an Error:
 * it is always caught, and a stack trace would cost more than the evaluation.
 */
export class NeedsData {
  constructor(
    readonly field: string,
    readonly load: () => Promise<void>,
  ) {}
}

type LazyField = 'account_acl' | 'container_sync' | 'account_exists' | 'account_domain_id';

export type LazyFields = {
  readonly [K in LazyField]?: () => Promise<SwiftTarget[K]>;
};

const NOT_LOADED = Symbol('not loaded');

/**
 * A target whose lazy fields are loaded on first use (see NeedsData): getters on a class, so
 * making one per request costs next to nothing.
 */
class LazyTarget {
  readonly method: string;
  readonly level: SwiftLevel;
  readonly account: string;
  readonly container?: string;
  readonly object?: string;
  readonly referer?: string;
  readonly acl?: string;
  readonly read_acl?: string;
  readonly write_acl?: string;
  private values: Record<LazyField, unknown> = { account_acl: NOT_LOADED, container_sync: NOT_LOADED, account_exists: NOT_LOADED, account_domain_id: NOT_LOADED };

  constructor(
    base: SwiftTarget,
    private readonly loaders: LazyFields,
  ) {
    this.method = base.method;
    this.level = base.level;
    this.account = base.account;
    this.container = base.container;
    this.object = base.object;
    this.referer = base.referer;
    this.acl = base.acl;
    this.read_acl = base.read_acl;
    this.write_acl = base.write_acl;
  }

  private lazy(field: LazyField): unknown {
    const v = this.values[field];
    if (v !== NOT_LOADED) return v;
    const loader = this.loaders[field] as (() => Promise<unknown>) | undefined;
    // No loader: nothing to look up (container_sync of a request that cannot be container sync).
    if (loader === undefined) return field === 'container_sync' ? false : undefined;
    throw new NeedsData(field, async () => {
      this.values[field] = await loader();
    });
  }

  get account_acl(): string | undefined {
    return this.lazy('account_acl') as string | undefined;
  }
  get container_sync(): boolean | undefined {
    return this.lazy('container_sync') as boolean | undefined;
  }
  get account_exists(): boolean | undefined {
    return this.lazy('account_exists') as boolean | undefined;
  }
  get account_domain_id(): string | undefined {
    return this.lazy('account_domain_id') as string | undefined;
  }
}

/** A target whose `lazy` fields are loaded on first use (see NeedsData). */
export function lazyTarget(base: SwiftTarget, lazy: LazyFields): SwiftTarget {
  return new LazyTarget(base, lazy);
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
