/**
 * Version-1 (container) ACLs: `X-Container-Read` / `X-Container-Write`, as
 * swift.common.middleware.acl clean_acl / parse_acl_v1 / format_acl_v1.
 */
import { pyRepr } from '../compat/repr';
import { unquote } from '../compat/quote';
import { pyStrip } from '../compat/py-whitespace';
import { formatAclV2, parseAclV2, type AclV2 } from './v2';

const REFERRER_DESIGNATORS = new Set(['.r', '.ref', '.referer', '.referrer']);

/** Swift's referrer tidying: `.r:` + optional `-` + value with one leading `*` dropped; undefined when no host is left. */
function cleanReferrer(value: string): string | undefined {
  let second = value;
  let negate = false;
  if (second.startsWith('-')) {
    negate = true;
    second = pyStrip(second.slice(1));
  }
  if (second && second !== '*' && second.startsWith('*')) second = pyStrip(second.slice(1));
  if (!second || second === '.') return undefined;
  return `.r:${negate ? '-' : ''}${second}`;
}

/**
 * Validates and tidies an ACL header value: items trimmed, empty items dropped, referrer
 * designators (.r/.ref/.referer/.referrer) rewritten to `.r:`, `*.example.com` to
 * `.example.com`. Throws Error with Swift's exact message (Python repr quoting) for a
 * referrer in a write ACL, a referrer without a host, or an unknown dotted designator.
 */
export function cleanAcl(name: string, value: string): string {
  const lname = name.toLowerCase();
  const values: string[] = [];
  for (const raw of value.split(',')) {
    const item = pyStrip(raw);
    if (!item) continue;
    const colon = item.indexOf(':');
    if (colon < 0) {
      values.push(item);
      continue;
    }
    const first = pyStrip(item.slice(0, colon));
    const second = pyStrip(item.slice(colon + 1));
    if (!first || !first.startsWith('.')) {
      values.push(item);
    } else if (REFERRER_DESIGNATORS.has(first)) {
      if (lname.includes('write')) throw new Error(`Referrers not allowed in write ACL: ${pyRepr(item)}`);
      const cleaned = cleanReferrer(second);
      if (cleaned === undefined) throw new Error(`No host/domain value after referrer designation in ACL: ${pyRepr(item)}`);
      // sluice: Swift strips one leading `-` and then one leading `*`, so `.r:**.r`, `.r:*-*x`
      // or `.r:* *x` clean to a value that cleans differently again (and `.r:*-` to `.r:-`,
      // which does not clean at all). Refuse what is not a fixed point, so the stored ACL
      // means what it says and cleaning is idempotent.
      const again = cleanReferrer(cleaned.slice(3));
      if (again !== cleaned) {
        throw new Error(
          again === undefined
            ? `No host/domain value after referrer designation in ACL: ${pyRepr(item)}`
            : `Ambiguous referrer designation in ACL: ${pyRepr(item)}`,
        );
      }
      values.push(cleaned);
    } else {
      throw new Error(`Unknown designator ${pyRepr(first)} in ACL: ${pyRepr(item)}`);
    }
  }
  return values.join(',');
}

export interface ParsedAclV1 {
  /** Referrer designations without `.r:` (`*`, `host`, `.domain`, `-host`, ...). */
  referrers: string[];
  /** Everything else, URL-unquoted (`test%3Atester3` → `test:tester3`). */
  groups: string[];
}

/** parse_acl_v1: split on `,` without stripping; `.r:` items are referrers, the rest unquoted groups. */
export function parseAclV1(acl: string | undefined | null): ParsedAclV1 {
  const referrers: string[] = [];
  const groups: string[] = [];
  if (acl) {
    for (const v of acl.split(',')) {
      if (v.startsWith('.r:')) referrers.push(v.slice(3));
      else groups.push(unquote(v));
    }
  }
  return { referrers, groups };
}

/** format_acl_v1: groups then `.r:` referrers joined with `,`; cleaned when a header name is given. */
export function formatAclV1(groups: readonly string[] = [], referrers: readonly string[] = [], headerName?: string): string {
  const result = [...groups, ...referrers.map((r) => `.r:${r}`)].join(',');
  return headerName ? cleanAcl(headerName, result) : result;
}

export type FormatAclArgs = { version?: 1; groups?: string[]; referrers?: string[]; headerName?: string } | { version: 2; aclDict: AclV2 };

/** format_acl: dispatches on version (1 by default); any other version is an error. */
export function formatAcl(args: FormatAclArgs): string {
  const version = args.version ?? 1;
  if (version === 1) {
    const a = args as { groups?: string[]; referrers?: string[]; headerName?: string };
    return formatAclV1(a.groups, a.referrers, a.headerName);
  }
  if (version === 2) return formatAclV2((args as { aclDict: AclV2 }).aclDict);
  throw new Error(`Invalid ACL version: ${String(version)}`);
}

/** parse_acl: version 1 (default) gives referrers and groups, version 2 the JSON object. */
export function parseAcl(data: string | undefined | null, version?: 1): ParsedAclV1;
export function parseAcl(data: string | undefined | null, version: 2): AclV2 | undefined;
export function parseAcl(data: string | undefined | null, version: number = 1): ParsedAclV1 | AclV2 | undefined {
  if (version === 1) return parseAclV1(data);
  if (version === 2) return parseAclV2(data);
  throw new Error(`Unknown ACL version: parse_acl(${String(version)})`);
}
