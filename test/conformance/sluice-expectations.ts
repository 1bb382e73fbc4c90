/**
 * Where sluice deliberately answers differently from Swift 2.30.1 (spec §6 and the `quirk`
 * scenarios), the expectation sluice is held to instead: a patch over the recorded
 * expectation, by scenario id and step index (headers are merged, other fields replaced).
 * Every entry is listed in the README's "Differences from Swift".
 */
import type { Expect } from './replayer';

export type ExpectPatch = Partial<Omit<Expect, 'headers'>> & { headers?: Expect['headers'] };

export interface ScenarioOverride {
  why: string;
  steps: Record<number, ExpectPatch>;
}

const UNAUTHORIZED_BODY =
  '<html><h1>Unauthorized</h1><p>This server could not verify that you are authorized to access the document you requested.</p></html>';
const FORBIDDEN_BODY = '<html><h1>Forbidden</h1><p>Access was denied to this resource.</p></html>';
const NOT_FOUND_BODY = '<html><h1>Not Found</h1><p>The resource could not be found.</p></html>';

const unauthorized = (method: 'GET' | 'HEAD' | 'PUT'): ExpectPatch => ({
  status: 401,
  headers: {
    'content-length': method === 'HEAD' ? '0' : String(UNAUTHORIZED_BODY.length),
    'content-type': 'text/html; charset=UTF-8',
    'www-authenticate': 'Swift realm="{AUTH_test}"',
  },
  ...(method === 'HEAD' ? {} : { body: UNAUTHORIZED_BODY }),
});

const tooLongAcl = (bytes: number): ExpectPatch => {
  const body = `X-Account-Access-Control invalid: value is ${bytes} bytes long; the limit is 8150 bytes\n`;
  return { status: 400, headers: { 'content-length': String(body.length), 'content-type': 'text/plain; charset=UTF-8' }, body };
};

/** The front door's refusal of a header line of max_header_size (8192) bytes or more, which says why. */
const headerLineTooLong = (name: string, valueBytes: number): ExpectPatch => {
  const body = `Header line too long: ${name} is ${name.length + valueBytes + 4} bytes with its name; a header line must be under 8192 bytes`;
  return { status: 400, headers: { 'content-length': String(body.length), 'content-type': 'text/plain', connection: 'close' }, body };
};

export const SLUICE_EXPECTATIONS: Record<string, ScenarioOverride> = {
  'acl-unicode-names-raw-utf8': {
    why: 'raw UTF-8 names come back as proper code points, not one escape per byte',
    steps: {
      2: { headers: { 'x-account-access-control': '{"admin":["na\\u00efve"],"read-only":["\\u00e9l\\u00e8ve","\\ud83d\\ude00"]}' } },
    },
  },
  'acl-size-boundary-1024-names': {
    why: 'an ACL over 8150 bytes gets a clear 400 naming the limit (here the header line limit, as eventlet refuses it)',
    steps: { 2: headerLineTooLong('X-Account-Access-Control', 8239) },
  },
  'acl-size-boundary-exact': {
    why: 'an ACL over 8150 bytes gets a clear 400 naming the limit: the ACL limit, or from 8164 bytes the header line limit',
    steps: { 2: tooLongAcl(8151), 3: tooLongAcl(8163), 4: headerLineTooLong('X-Account-Access-Control', 8164) },
  },
  'perm-anonymous-empty-string-grantee': {
    why: 'an empty-string grantee matches nobody, so anonymous users get nothing',
    steps: {
      5: unauthorized('HEAD'),
      6: unauthorized('GET'),
      7: unauthorized('GET'),
      11: unauthorized('PUT'),
      16: { status: 404, headers: { 'content-length': String(NOT_FOUND_BODY.length) }, body: NOT_FOUND_BODY },
    },
  },
  'priv-nonowner-can-remove-privileged-via-x-remove': {
    why: "a non-owner's X-Remove-* forms of privileged headers are dropped like the set forms",
    steps: {
      6: { headers: { 'x-container-meta-temp-url-key': 'ckey-1', 'x-container-read': 'test:tester3,.rlistings', 'x-container-sync-key': 'sync-secret' } },
    },
  },
  'acl-admin-can-delete-account': {
    why: 'an account-ACL admin has exactly the owner powers: no account PUT or DELETE',
    steps: {
      5: { status: 403, headers: { 'content-length': String(FORBIDDEN_BODY.length) }, body: FORBIDDEN_BODY },
      6: { status: 403, headers: { 'content-length': String(FORBIDDEN_BODY.length) }, body: FORBIDDEN_BODY },
      7: { status: 204, headers: { 'content-type': 'text/plain; charset=utf-8' } },
      8: { status: 204, headers: { 'content-type': 'text/plain; charset=utf-8' } },
    },
  },
};

export function applyPatch(expect: Expect, patch: ExpectPatch | undefined): Expect {
  if (!patch) return expect;
  return { ...expect, ...patch, headers: { ...expect.headers, ...patch.headers } };
}
