/**
 * The check kinds Swift's rules are written with, registered with the policy engine beside
 * oslo.policy's own (`role:`, `rule:`, generic `field:value`):
 *
 *   container_acl:member                the caller matches an identity entry of the container ACL that
 *                                       governs the request (Swift's req.acl: X-Container-Read for
 *                                       reads, X-Container-Write for object writes)
 *   container_acl:role                  one of the caller's roles is an entry of it (keystoneauth)
 *   container_acl:referrer              the Referer is allowed by its `.r:` entries
 *   container_acl:rlistings             it holds `.rlistings`
 *   container_acl:read | write          the caller matches an identity entry of X-Container-Read / -Write
 *   account_acl:admin | read-write | read-only   the caller is a grantee of that account ACL level
 *   account:project | operator | service_token | project_reader | reserved   (see model.ts)
 *   referrer:<designation>              the Referer matches one `.r:` designation (`*`, `.example.com`, `-bad.com`)
 *   container_sync:key                  the request carries the container's sync key (legacy container sync)
 *   sets_acl:<entry>                    an ACL the request sets holds the entry (`.r:*`, `.rlistings`,
 *                                       `test:tester3`; for X-Account-Access-Control, a grantee at any level)
 *
 * Each says why it passed or failed when a decision is explained, naming ACL entries and the
 * caller, never a key.
 */
import type { CheckContext, CheckKind, CustomCheck } from '../../policy';
import { accountAclsCached, parseAclV1Cached } from '../../acl/cache';
import { referrerAllowed } from '../../acl/referrer';
import { ACCOUNT_ACL_KEYS, aclsFromSysmeta, type AccountAclKey } from '../../acl/account-acls';
import { cleanAcl } from '../../acl/v1';
import { ACCOUNT_FACTS, type AccountFact, type AuthzModel } from './model';
import { fromCreds, fromTarget, type SwiftTarget } from './target';

/** The check kinds this module registers. */
export const SWIFT_CHECK_KINDS = ['container_acl', 'account_acl', 'account', 'referrer', 'container_sync', 'sets_acl'] as const;

const CONTAINER_ACL_CHECKS = ['member', 'role', 'referrer', 'rlistings', 'read', 'write'] as const;
type ContainerAclCheck = (typeof CONTAINER_ACL_CHECKS)[number];

const FACT_WORDS: Record<AccountFact, [string, string]> = {
  project: ['is the caller\'s', 'is not the caller\'s'],
  operator: ['', ''], // the model's operatorWords
  service_token: ['the service-token requirement is met for', 'no X-Service-Token with a service role, which the prefix requires, for'],
  project_reader: ['the caller holds a project reader role for', 'the caller holds no project reader role for'],
  reserved: ['is a bare reseller prefix or a dot account:', 'is an ordinary account:'],
};

function containerName(t: SwiftTarget): string {
  return t.container === undefined ? t.account : `${t.account}/${t.container}`;
}

function constant(value: string, allowed: readonly string[], kind: string): { error: string; offset: number } | undefined {
  return allowed.includes(value) ? undefined : { error: `${kind}: expects one of ${allowed.join(', ')}`, offset: 0 };
}

/** The ACL a container_acl check looks at, and its name for explanations. */
function aclOf(t: SwiftTarget, which: ContainerAclCheck): { acl: string | undefined; header: string } {
  if (which === 'read') return { acl: t.read_acl, header: 'X-Container-Read' };
  if (which === 'write') return { acl: t.write_acl, header: 'X-Container-Write' };
  const read = t.method === 'GET' || t.method === 'HEAD';
  return { acl: t.acl, header: read ? 'X-Container-Read' : 'X-Container-Write' };
}

/** Account requests and container writes are governed by no container ACL (Swift's req.acl is unset). */
function noGoverningAcl(t: SwiftTarget, which: ContainerAclCheck): string | undefined {
  if (which === 'read' || which === 'write' || t.acl !== undefined) return undefined;
  if (t.level === 'account') return 'no container ACL applies to an account request';
  if (t.level === 'container' && t.method !== 'GET' && t.method !== 'HEAD') return `no container ACL applies to a container ${t.method}`;
  return undefined;
}

function containerAclCheck(model: AuthzModel, which: ContainerAclCheck): CustomCheck {
  return (ctx: CheckContext) => {
    const t = fromTarget(ctx.target);
    const { acl: raw, header } = aclOf(t, which);
    const ungoverned = noGoverningAcl(t, which);
    if (ungoverned !== undefined) {
      if (ctx.explaining) ctx.note(ungoverned, which !== 'member');
      return false;
    }
    const acl = parseAclV1Cached(raw);
    switch (which) {
      case 'rlistings': {
        const ok = acl.groupSet.has('.rlistings');
        if (ctx.explaining) ctx.note(`${header} on ${containerName(t)} ${ok ? 'holds' : 'does not hold'} .rlistings`, !ok);
        return ok;
      }
      case 'referrer': {
        const ok = referrerAllowed(t.referer, acl.referrers);
        if (ctx.explaining) {
          if (acl.referrers.length === 0) ctx.note(`${header} on ${containerName(t)} has no .r: entries`, true);
          else ctx.note(`${ok ? 'a' : 'no'} .r: entry of ${header} on ${containerName(t)} allows the referrer ${JSON.stringify(t.referer ?? '')}`);
        }
        return ok;
      }
      case 'member':
      case 'read':
      case 'write': {
        const creds = fromCreds(ctx.creds);
        if (acl.groups.length === 0) {
          if (ctx.explaining) ctx.note(`${header} on ${containerName(t)} names no one`);
          return false;
        }
        const match = model.containerAclIdentities(t, creds).find((g) => g !== '' && acl.groupSet.has(g));
        if (ctx.explaining) ctx.note(match === undefined ? `no entry of ${header} on ${containerName(t)} matches ${model.who(creds)}` : `${header} on ${containerName(t)} names ${JSON.stringify(match)}`);
        return match !== undefined;
      }
      case 'role': {
        const creds = fromCreds(ctx.creds);
        const roles = model.aclRoles(creds);
        if (acl.groups.length === 0 || roles.length === 0) {
          if (ctx.explaining) ctx.note(roles.length === 0 ? `${model.who(creds)} has no roles to match ${header}` : `${header} on ${containerName(t)} names no one`);
          return false;
        }
        const entries = new Set(acl.groups.map((g) => g.toLowerCase()));
        const match = roles.find((r) => entries.has(r));
        if (ctx.explaining) ctx.note(match === undefined ? `no role of ${model.who(creds)} is an entry of ${header} on ${containerName(t)}` : `${header} on ${containerName(t)} names the role ${JSON.stringify(match)}`);
        return match !== undefined;
      }
    }
  };
}

function accountAclCheck(model: AuthzModel, level: AccountAclKey): CustomCheck {
  return (ctx) => {
    const t = fromTarget(ctx.target);
    const creds = fromCreds(ctx.creds);
    const acls = accountAclsCached(t.account_acl);
    if (!acls) {
      if (ctx.explaining) ctx.note(`account ${t.account} has no account ACL`);
      return false;
    }
    const grantees = acls[level];
    const match = grantees.size === 0 ? undefined : model.accountAclIdentities(t, creds).find((g) => g !== '' && grantees.has(g));
    if (ctx.explaining) ctx.note(match === undefined ? `the account ACL of ${t.account} grants ${model.who(creds)} no ${level} access` : `the account ACL of ${t.account} grants ${level} to ${JSON.stringify(match)}`);
    return match !== undefined;
  };
}

function accountFactCheck(model: AuthzModel, fact: AccountFact): CustomCheck {
  return (ctx) => {
    const t = fromTarget(ctx.target);
    const creds = fromCreds(ctx.creds);
    const ok = model.account(fact, t, creds);
    if (ctx.explaining) {
      const [yes, no] = fact === 'operator' ? model.operatorWords : FACT_WORDS[fact];
      ctx.note(fact === 'project' || fact === 'reserved' ? `account ${t.account} ${ok ? yes : no}${fact === 'reserved' ? '' : ` (${model.who(creds)})`}` : `${ok ? yes : no} ${t.account}`);
    }
    return ok;
  };
}

/** The entries of each ACL the request sets, canonical as Swift stores them; an ACL that does not parse has none (it is refused with a 400 later). */
function setEntries(t: SwiftTarget): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const [header, value] of [['X-Container-Read', t.new_read_acl], ['X-Container-Write', t.new_write_acl]] as const) {
    if (value === undefined) continue;
    try {
      const cleaned = cleanAcl(header.toLowerCase(), value);
      out.push([header, cleaned === '' ? [] : cleaned.split(',')]);
    } catch {
      out.push([header, []]);
    }
  }
  if (t.new_account_acl !== undefined) {
    const acls = aclsFromSysmeta(t.new_account_acl);
    out.push(['X-Account-Access-Control', acls ? [...acls.admin, ...acls['read-write'], ...acls['read-only']] : []]);
  }
  return out;
}

/** The Swift check kinds, for one auth filter's identities. */
export function swiftCheckKinds(model: AuthzModel): Record<string, CheckKind> {
  return {
    container_acl: {
      compile: (match) => constant(match, CONTAINER_ACL_CHECKS, 'container_acl') ?? containerAclCheck(model, match as ContainerAclCheck),
    },
    account_acl: {
      compile: (match) => constant(match, ACCOUNT_ACL_KEYS, 'account_acl') ?? accountAclCheck(model, match as AccountAclKey),
    },
    account: {
      compile: (match) => constant(match, ACCOUNT_FACTS, 'account') ?? accountFactCheck(model, match as AccountFact),
    },
    referrer: {
      compile: (match) => {
        if (match === '' || /[\s,]/.test(match)) return { error: 'referrer: expects one referrer designation (*, a host, .domain, or -host to exclude)', offset: 0 };
        const designation = [match];
        return (ctx) => {
          const t = fromTarget(ctx.target);
          const ok = referrerAllowed(t.referer, designation);
          if (ctx.explaining) ctx.note(`the referrer ${JSON.stringify(t.referer ?? '')} ${ok ? 'matches' : 'does not match'} ${JSON.stringify(match)}`);
          return ok;
        };
      },
    },
    sets_acl: {
      compile: (match) => {
        if (match === '' || /[\s,]/.test(match)) return { error: 'sets_acl: expects one ACL entry (.r:*, .rlistings, account:user, project:user)', offset: 0 };
        let entry = match;
        try {
          entry = cleanAcl('x-container-read', match);
        } catch {
          // Not a container ACL entry (an account ACL grantee, say): compared as written.
        }
        return (ctx) => {
          const t = fromTarget(ctx.target);
          const found = setEntries(t).find(([, entries]) => entries.includes(entry));
          if (ctx.explaining) ctx.note(found ? `the request sets ${found[0]} with ${JSON.stringify(entry)}` : `no ACL the request sets holds ${JSON.stringify(entry)}`);
          return found !== undefined;
        };
      },
    },
    container_sync: {
      compile: (match) =>
        constant(match, ['key'], 'container_sync') ??
        ((ctx) => {
          const t = fromTarget(ctx.target);
          const ok = t.container_sync === true;
          if (ctx.explaining) ctx.note(ok ? `the request carries the sync key of ${containerName(t)}` : `the request does not carry the sync key of ${containerName(t)} with an X-Timestamp`, !ok);
          return ok;
        }),
    },
  };
}
