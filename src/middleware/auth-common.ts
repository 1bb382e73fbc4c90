/**
 * What Swift's two auth filters, tempauth and keystoneauth, decide alike: swob's 401/403
 * denials, container ACL clean-up, the legacy container-sync key, and the validation of an
 * X-Account-Access-Control value before it becomes sysmeta.
 */
import type { AuthorizeRequest, CleanAcl, ProxyContext } from '../proxy/context';
import type { ProxyState } from '../proxy/state';
import { swiftResponse } from '../proxy/response';
import { cleanAcl } from '../acl/v1';
import { accountAclError } from '../acl/account-acls';
import { asByteString, bytesOf, textOf, type ByteString } from '../compat/bytes';
import { quote } from '../compat/quote';
import { fetchContainerInfo } from './account-info';

export const ACL_HEADER = 'x-account-access-control';
export const ACL_SYSMETA_HEADER = 'x-account-sysmeta-core-access-control';
/**
 * sluice: the longest X-Account-Access-Control value accepted, in bytes. Swift's own limit
 * is implicit (8192-byte header lines at the proxy and at the account server, which sees
 * the value under the longer sysmeta name) and fails inconsistently above 8150 bytes.
 */
export const MAX_ACCOUNT_ACL_BYTES = 8150;

const PLAIN_UTF8 = 'text/plain; charset=UTF-8';

/** A header value (or path segment) as text, as swob's wsgi_to_str decodes it. */
export function headerText(bytes: ByteString): string {
  return textOf(bytes, 'surrogateescape');
}

/** The container-ACL clean-up installed for the proxy: header bytes decoded as UTF-8, cleaned, re-encoded. */
export const cleanAclHeader: CleanAcl = (name, value) => bytesOf(cleanAcl(name, headerText(asByteString(value))));

/** A swob-style error response: default HTML body, none (and Content-Length 0) for HEAD. */
export function errorResponse(status: number, method: string, headers: Record<string, string> = {}): Response {
  if (method === 'HEAD') return swiftResponse(status, { headers, body: '', method });
  return swiftResponse(status, { headers, method });
}

/** Swift's realm for a swob 401: the quoted account of `/<v>/<account>...`, else "unknown". */
export function swobRealm(account: string | undefined): string {
  if (!account || account === 'v1.0' || account === 'auth') return 'unknown';
  return quote(account);
}

/** denied_response: 403 for a known user (REMOTE_USER set), else 401 with the swob realm. */
export function deniedResponse(c: ProxyContext, req: Pick<AuthorizeRequest, 'method' | 'account'>): Response {
  if (c.get('remoteUser')) return errorResponse(403, req.method);
  return errorResponse(401, req.method, { 'www-authenticate': `Swift realm="${swobRealm(req.account)}"` });
}

/**
 * Legacy container sync: an object PUT/DELETE carrying the container's sync key and an
 * X-Timestamp (Swift's env['swift_sync_key'], set by the object controller).
 */
export async function containerSyncAllows(state: ProxyState, c: ProxyContext, req: AuthorizeRequest): Promise<boolean> {
  if (!req.object || !req.container || (req.method !== 'PUT' && req.method !== 'DELETE')) return false;
  const key = req.headers.get('x-container-sync-key');
  if (key === undefined || !req.headers.has('x-timestamp')) return false;
  const info = await fetchContainerInfo(state, c, req.account, req.container);
  return !!info.syncKey && info.syncKey === headerText(key);
}

/** The 400 for an unusable X-Account-Access-Control value: `X-Account-Access-Control invalid: <why>`. */
export function accountAclInvalid(method: string, why: string, input?: string): Response {
  const body = input === undefined ? `X-Account-Access-Control invalid: ${why}\n` : `X-Account-Access-Control invalid: ${why}\n\nInput: ${input}\n`;
  return swiftResponse(400, { body, contentType: PLAIN_UTF8, method });
}

/**
 * 400 for an X-Account-Access-Control value that is too long or not a valid account ACL
 * (TempAuth's extract_acl_and_report_errors); `grantees` adds the auth filter's own check of
 * each grantee. Returns the value as text when it is valid.
 */
export function validateAccountAcl(
  raw: ByteString,
  method: string,
  grantees?: (text: string) => string | undefined,
): { ok: true; text: string } | { ok: false; response: Response } {
  if (raw.length > MAX_ACCOUNT_ACL_BYTES) {
    return { ok: false, response: accountAclInvalid(method, `value is ${raw.length} bytes long; the limit is ${MAX_ACCOUNT_ACL_BYTES} bytes`) };
  }
  const text = headerText(raw);
  const error = accountAclError(text) ?? grantees?.(text);
  if (error) return { ok: false, response: accountAclInvalid(method, error, text) };
  return { ok: true, text };
}
