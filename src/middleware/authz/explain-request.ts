/**
 * "Why was I denied?" over HTTP, for account owners (sluice; Swift has nothing like it).
 *
 * A request carrying `X-Sluice-Explain: <identity>` is not performed. The proxy first authorizes
 * the caller, with its own token, as the owner of the account in the path (Swift's swift_owner:
 * the account's operator, an account-ACL admin or the reseller admin: whoever may read the
 * account's and its containers' ACLs anyway). Anyone else gets the denial their HEAD of the
 * account would get, and learns nothing about ACLs. For the owner the answer is 200 with the
 * decision the named identity would meet for the path:
 *
 *   X-Sluice-Explain: test:tester3            (tempauth `account:user`; keystoneauth
 *                                               `<project_id>:<user_id>`; or `anonymous`)
 *   X-Sluice-Explain-Method: PUT              (default GET)
 *   X-Sluice-Explain-Referer: https://...     (the Referer the identity would send)
 *   X-Sluice-Explain-Roles: member,reader     (keystoneauth: the identity's roles)
 *
 * The body is the decision as text (or JSON with `Accept: application/json`), with
 * `X-Sluice-Explain-Decision: allow|deny` and `X-Sluice-Explain-Rule`. Keys are never shown.
 */
import type { AuthorizeRequest, ProxyContext } from '../../proxy/context';
import type { ProxyState } from '../../proxy/state';
import { parseProxyPath, rawPathOf } from '../../proxy/request-target';
import { RequestHeaders } from '../../proxy/request-headers';
import { swiftResponse } from '../../proxy/response';
import { asByteString } from '../../compat/bytes';
import { formatDecision, type Decision } from '../../policy';
import { fetchContainerInfo } from '../account-info';
import { headerText } from '../auth-common';
import type { SwiftAuthz } from './authz';
import { summarizeDecision } from './decide';
import type { SwiftCreds, SwiftTarget } from './target';

export const EXPLAIN_HEADER = 'x-sluice-explain';
const METHOD_HEADER = 'x-sluice-explain-method';
const REFERER_HEADER = 'x-sluice-explain-referer';
export const ROLES_HEADER = 'x-sluice-explain-roles';

const TEXT = 'text/plain; charset=utf-8';
const METHOD = /^[A-Z]{1,32}$/;

/** Who the explanation is for: credentials, and what was assumed about them. */
export type ExplainedIdentity = { readonly creds: SwiftCreds; readonly assumed?: string } | { readonly error: string };

export interface ExplainHooks {
  /** Credentials for the identity named in X-Sluice-Explain (the header's value, decoded). */
  identity(name: string, headers: RequestHeaders): ExplainedIdentity;
  /** The policy target of a request, as the filter builds it for its own decisions. */
  target(c: ProxyContext, req: AuthorizeRequest): SwiftTarget;
}

function badRequest(why: string): Response {
  return swiftResponse(400, { body: `X-Sluice-Explain: ${why}\n`, contentType: TEXT });
}

/** Answers a request that asks for an explanation (see the module comment). */
export async function explainRequest(state: ProxyState, c: ProxyContext, authz: SwiftAuthz, hooks: ExplainHooks): Promise<Response> {
  const headers = c.get('headers');
  const parsed = parseProxyPath(rawPathOf(c), state.constraints.valid_api_versions);
  if (parsed instanceof Response) return parsed;
  const { account, container, object } = parsed;

  // The caller must own the account: the same authorization an account HEAD gets.
  const authorize = c.get('authorize');
  if (!authorize) return swiftResponse(401, { method: c.req.method });
  c.set('swiftOwner', false);
  const denial = await authorize(c, { method: 'HEAD', account, container: undefined, object: undefined, acl: undefined, referer: undefined, headers });
  if (denial) return denial;
  if (!c.get('swiftOwner')) {
    c.set('authzDenial', `deny X-Sluice-Explain: only the owner of ${account} may ask why a request is allowed or denied there`);
    return swiftResponse(403, { method: c.req.method });
  }

  const name = headerText(headers.get(EXPLAIN_HEADER)!).trim();
  const method = (headers.get(METHOD_HEADER) ?? 'GET').trim().toUpperCase();
  if (!METHOD.test(method)) return badRequest(`X-Sluice-Explain-Method ${JSON.stringify(method)} is not an HTTP method`);
  const refererRaw = headers.get(REFERER_HEADER);
  const who = hooks.identity(name, headers);
  if ('error' in who) return badRequest(who.error);

  // The container ACL the controller would hand to authorize (Swift's req.acl).
  const read = method === 'GET' || method === 'HEAD';
  let containerAcls: AuthorizeRequest['containerAcls'];
  let acl: string | undefined;
  if (container !== undefined) {
    const info = await fetchContainerInfo(state, c, account, container);
    containerAcls = { read: info.readAcl, write: info.writeAcl };
    acl = read ? info.readAcl : object !== undefined ? info.writeAcl : undefined;
  }
  const req: AuthorizeRequest = {
    method,
    account,
    container,
    object,
    acl,
    containerAcls,
    referer: refererRaw === undefined ? undefined : asByteString(refererRaw),
    // The explained request carries none of the caller's headers (no sync key, no ACL to set).
    headers: new RequestHeaders([]),
  };
  const decision = await authz.explain(hooks.target(c, req), who.creds);
  return answer(c, decision, { name, method, path: rawPathOf(c), assumed: who.assumed });
}

function answer(c: ProxyContext, decision: Decision, ask: { name: string; method: string; path: string; assumed?: string }): Response {
  const verdict = decision.allowed ? 'allow' : 'deny';
  const summary = summarizeDecision(decision);
  const headers = { 'x-sluice-explain-decision': verdict, 'x-sluice-explain-rule': decision.decidedBy ?? decision.rule };
  if ((c.get('headers').get('accept') ?? '').includes('application/json')) {
    const body = JSON.stringify({
      identity: ask.name,
      method: ask.method,
      path: ask.path,
      allowed: decision.allowed,
      rule: decision.rule,
      decided_by: decision.decidedBy ?? null,
      summary,
      assumed: ask.assumed ?? null,
      trace: decision.trace.map((e) => ({ depth: e.depth, rule: e.rule, check: e.node.type === 'check' ? e.node.text : e.node.type, result: e.result ?? null, detail: e.detail ?? null, error: e.error ?? null })),
    });
    return swiftResponse(200, { headers, body, contentType: 'application/json; charset=utf-8' });
  }
  const lines = [`${verdict} ${ask.method} ${ask.path} for ${ask.name}`, summary];
  if (ask.assumed) lines.push(`note: ${ask.assumed}`);
  lines.push('', formatDecision(decision), '');
  return swiftResponse(200, { headers, body: lines.join('\n'), contentType: TEXT });
}
