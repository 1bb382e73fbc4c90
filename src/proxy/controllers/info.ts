/**
 * `/info` (swift.proxy.controllers.info): the cluster's capabilities as JSON, so clients can
 * discover constraints, policies and middleware settings. Each filter adds its own section to
 * `state.info` when the pipeline is built. Sections named in `disallowed_sections` are shown
 * only to admin requests signed with `admin_key` (`swiftinfo_sig`, `swiftinfo_expires`).
 */
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../common/constant-time';
import type { ProxyContext } from '../context';
import type { ProxyState } from '../state';
import { swiftResponse } from '../response';
import { rawQueryOf } from '../request-target';
import { pyJsonDumps } from '../../compat/json';
import { swobParams } from '../../compat/query';

const ALLOWED_HMAC_METHODS: Record<string, string[]> = { HEAD: ['HEAD', 'GET'], GET: ['GET'] };


/** The info document, minus disallowed sections (`swift.valid_api_versions` style keys drop one field). */
function visibleInfo(info: Record<string, Record<string, unknown>>, disallowed: string[], admin: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, section] of Object.entries(info)) out[name] = { ...section };
  if (admin) return out;
  for (const key of disallowed) {
    const [section, field] = key.split('.', 2) as [string, string | undefined];
    if (field === undefined) delete out[section];
    else if (out[section]) delete (out[section] as Record<string, unknown>)[field];
  }
  return out;
}

export async function handleInfo(c: ProxyContext, state: ProxyState): Promise<Response> {
  const method = c.req.method;
  if (method === 'OPTIONS') return swiftResponse(200, { headers: { Allow: 'HEAD, GET, OPTIONS' }, method });
  if (method !== 'GET' && method !== 'HEAD') return swiftResponse(405, { headers: { Allow: 'HEAD, GET, OPTIONS' }, method });
  const { exposeInfo, adminKey, disallowedSections } = state.options;
  if (!exposeInfo) return swiftResponse(403, { method });
  const params = swobParams(rawQueryOf(c));
  const sig = params.get('swiftinfo_sig') ?? '';
  const expiresRaw = params.get('swiftinfo_expires') ?? '';
  let admin = false;
  if (sig !== '' || expiresRaw !== '') {
    if (!adminKey) return swiftResponse(403, { method });
    if (!/^-?\d+$/.test(expiresRaw)) return swiftResponse(401, { method });
    const expires = Number(expiresRaw);
    if (expires < Date.now() / 1000) return swiftResponse(401, { method });
    const valid = ALLOWED_HMAC_METHODS[method]!.some((m) =>
      constantTimeEqual(createHmac('sha1', adminKey).update(`${m}\n${expires}\n/info`).digest('hex'), sig),
    );
    if (!valid) return swiftResponse(401, { method });
    admin = true;
  }
  const headers: Record<string, string> = {};
  const origin = c.get('headers').get('origin');
  if (origin) {
    headers['access-control-allow-origin'] = origin;
    headers['access-control-expose-headers'] = 'x-trans-id';
  }
  // Swift's json.dumps(get_swift_info(...)): ensure_ascii, default separators.
  const body = pyJsonDumps(visibleInfo(state.info, disallowedSections, admin));
  return swiftResponse(200, { headers, body, contentType: 'application/json; charset=UTF-8', method });
}
