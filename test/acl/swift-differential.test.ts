/**
 * Differential fixtures: random inputs run through Swift 2.30.1's own acl.py on Python 3.11
 * (the recorded cluster's versions), compared with sluice's port.
 * swift-acl-v1.json: clean_acl (read and write header), parse_acl_v1, referrer_allowed, repr.
 * swift-acl-v2.json: tempauth's validation message, parse_acl_v2 + format_acl_v2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanAcl, parseAclV1 } from '../../src/acl/v1';
import { referrerAllowed } from '../../src/acl/referrer';
import { pyRepr } from '../../src/compat/repr';
import { accountAclError } from '../../src/acl/account-acls';
import { formatAclV2, parseAclV2 } from '../../src/acl/v2';

const dir = join(import.meta.dirname, 'fixtures');

interface V1Row {
  acl: string;
  referer: string;
  referrers: string[];
  'x-container-read': [string, string];
  'x-container-write': [string, string];
  parse: [string[], string[]];
  allowed: boolean | null;
  repr: string;
}

const v1 = JSON.parse(readFileSync(join(dir, 'swift-acl-v1.json'), 'utf8')) as V1Row[];
const v2 = JSON.parse(readFileSync(join(dir, 'swift-acl-v2.json'), 'utf8')) as [string, string | null, string | null][];

function clean(name: string, value: string): [string, string] {
  try {
    return ['ok', cleanAcl(name, value)];
  } catch (err) {
    return ['err', (err as Error).message];
  }
}

describe('v1 ACLs agree with Swift', () => {
  it(`clean_acl on ${v1.length} inputs`, () => {
    for (const r of v1) {
      expect(clean('X-Container-Read', r.acl), r.acl).toEqual(r['x-container-read']);
      expect(clean('X-Container-Write', r.acl), r.acl).toEqual(r['x-container-write']);
    }
  });
  it('parse_acl_v1', () => {
    for (const r of v1) {
      const p = parseAclV1(r.acl);
      expect([p.referrers, p.groups], r.acl).toEqual(r.parse);
    }
  });
  it('referrer_allowed (where Python does not raise)', () => {
    for (const r of v1) if (r.allowed !== null) expect(referrerAllowed(r.referer, r.referrers), `${r.referer} ${r.referrers}`).toBe(r.allowed);
  });
  it('repr', () => {
    for (const r of v1) expect(pyRepr(r.acl)).toBe(r.repr);
  });
});

describe('v2 ACLs agree with Swift', () => {
  it(`validation messages and canonical form on ${v2.length} inputs`, () => {
    for (const [input, error, formatted] of v2) {
      expect(accountAclError(input) ?? null, input).toBe(error);
      const parsed = parseAclV2(input);
      expect(parsed === undefined ? null : formatAclV2(parsed), input).toBe(formatted);
    }
  });
});
