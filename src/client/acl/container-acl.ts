/**
 * Container ACLs (X-Container-Read / X-Container-Write, Swift's v1 ACL syntax) built and checked
 * on the client. Swift's clean_acl silently drops empty items and passes any item without a
 * leading dot as a user, so a typo such as `.rlisting` or `.r :host` would be stored as a
 * harmless-looking but meaningless grant, or `.r:*` typed where `.r:*.example.com` was meant
 * would open the container: here every item must be one the server will read as intended, and
 * the result must be what the server's own cleaning (src/acl cleanAcl) leaves unchanged.
 */
import { cleanAcl } from '../../acl/v1';
import { AclValidationError } from './errors';

export type ContainerAclKind = 'read' | 'write';

const REFERRER_DESIGNATORS = ['.r', '.ref', '.referer', '.referrer'];

export interface ReadAclSpec {
  /** Users or groups (`account:user`, `project_id:user_id`, TempAuth groups, `*:*`). */
  users?: readonly string[];
  /** Referrer hosts: `example.com`, `.example.com` (a domain), `*` (anyone), `-host` (deny). */
  referrers?: readonly string[];
  /** `.rlistings`: referrer-allowed clients may list the container too. */
  listings?: boolean;
}

export interface WriteAclSpec {
  users?: readonly string[];
}

function checkUser(kind: ContainerAclKind, user: string): void {
  if (typeof user !== 'string') throw new AclValidationError(`${kind} ACL: a user must be a string`);
  if (user.trim() === '') throw new AclValidationError(`${kind} ACL: empty user`);
  if (user !== user.trim()) throw new AclValidationError(`${kind} ACL: user ${JSON.stringify(user)} has leading or trailing whitespace`);
  if (user.includes(',')) throw new AclValidationError(`${kind} ACL: user ${JSON.stringify(user)} contains a comma, which separates ACL items`);
  if (user.startsWith('.')) {
    throw new AclValidationError(`${kind} ACL: ${JSON.stringify(user)} is not a user; directives (.r:<host>, .rlistings) go in referrers/listings`);
  }
}

function checkReferrerHost(host: string, item: string): void {
  const bare = host.startsWith('-') ? host.slice(1) : host;
  if (bare === '' || bare === '.') throw new AclValidationError(`read ACL: no host or domain after the referrer designation in ${JSON.stringify(item)}`);
  if (/[\s,]/.test(bare)) throw new AclValidationError(`read ACL: referrer ${JSON.stringify(item)} contains whitespace or a comma`);
  if (bare.includes('/') || bare.includes(':')) {
    throw new AclValidationError(`read ACL: referrer ${JSON.stringify(item)} must be a host or .domain, not a URL (Swift compares the Referer's host only)`);
  }
  if (bare !== '*' && bare.includes('*')) {
    throw new AclValidationError(`read ACL: referrer ${JSON.stringify(item)}: only a lone "*" is a wildcard; write ".example.com" for a domain`);
  }
}

/** A referrer given as `host` or with its designator (`.r:host`), as the `.r:host` item. */
function referrerItem(referrer: string): string {
  if (typeof referrer !== 'string') throw new AclValidationError('read ACL: a referrer must be a string');
  let host = referrer;
  const colon = referrer.indexOf(':');
  if (referrer.startsWith('.') && colon > 0 && REFERRER_DESIGNATORS.includes(referrer.slice(0, colon))) host = referrer.slice(colon + 1);
  checkReferrerHost(host, referrer);
  return `.r:${host}`;
}

/**
 * Checks an X-Container-Read / -Write value as written by hand; returns it unchanged or throws
 * AclValidationError. `''` (no ACL: remove it) is valid.
 */
export function validateContainerAcl(kind: ContainerAclKind, value: string): string {
  if (value === '') return value;
  for (const item of value.split(',')) {
    if (item.trim() === '') throw new AclValidationError(`${kind} ACL ${JSON.stringify(value)} has an empty item (stray comma)`);
    if (!item.startsWith('.')) {
      checkUser(kind, item);
      continue;
    }
    if (kind === 'write') throw new AclValidationError(`write ACL: ${JSON.stringify(item)}: referrers and listings apply to reading only`);
    if (item === '.rlistings') continue;
    const colon = item.indexOf(':');
    if (colon > 0 && REFERRER_DESIGNATORS.includes(item.slice(0, colon))) {
      if (!item.startsWith('.r:')) throw new AclValidationError(`read ACL: write ${JSON.stringify(item)} as ".r:${item.slice(colon + 1)}"`);
      checkReferrerHost(item.slice(3), item);
      continue;
    }
    throw new AclValidationError(`read ACL: unknown directive ${JSON.stringify(item)} (known: .r:<host>, .rlistings)`);
  }
  let cleaned: string;
  try {
    cleaned = cleanAcl(kind === 'read' ? 'x-container-read' : 'x-container-write', value);
  } catch (err) {
    throw new AclValidationError(`${kind} ACL refused: ${(err as Error).message}`);
  }
  if (cleaned !== value) throw new AclValidationError(`${kind} ACL ${JSON.stringify(value)} would be stored as ${JSON.stringify(cleaned)}; send that instead`);
  return value;
}

export interface ContainerAclHeaders {
  'X-Container-Read'?: string;
  'X-Container-Write'?: string;
}

/** Builds X-Container-Read / X-Container-Write values; each call validates at once. */
export class ContainerAclBuilder {
  private readValue: string | undefined;
  private writeValue: string | undefined;

  read(spec: ReadAclSpec): this {
    const items = [...(spec.users ?? []).map((u) => (checkUser('read', u), u)), ...(spec.referrers ?? []).map(referrerItem)];
    if (spec.listings) items.push('.rlistings');
    this.readValue = validateContainerAcl('read', [...new Set(items)].join(','));
    return this;
  }

  write(spec: WriteAclSpec): this {
    if ('referrers' in spec || 'listings' in spec) throw new AclValidationError('write ACL: referrers and listings apply to reading only');
    const items = (spec.users ?? []).map((u) => (checkUser('write', u), u));
    this.writeValue = validateContainerAcl('write', [...new Set(items)].join(','));
    return this;
  }

  /** The headers for a container PUT or POST (`''` removes an ACL). */
  headers(): ContainerAclHeaders {
    const out: ContainerAclHeaders = {};
    if (this.readValue !== undefined) out['X-Container-Read'] = this.readValue;
    if (this.writeValue !== undefined) out['X-Container-Write'] = this.writeValue;
    return out;
  }
}

export function containerAcl(): ContainerAclBuilder {
  return new ContainerAclBuilder();
}
