/** The policy target of a request the proxy asks an auth filter to authorize. */
import type { AuthorizeRequest, ProxyContext } from '../../proxy/context';
import type { ProxyState } from '../../proxy/state';
import { asByteString } from '../../compat/bytes';
import { fetchAccountInfo } from '../account-info';
import { containerSyncAllows, headerText } from '../auth-common';
import { lazyTarget, levelOf, type LazyFields, type SwiftTarget } from './target';

const isRead = (m: string) => m === 'GET' || m === 'HEAD';

/**
 * The target for `req`: its method and path, the Referer, the container ACLs the controller
 * knows (or `req.acl` as the ACL of the method), and, loaded on first use, the account ACL and
 * whether the request carries the container's sync key. `extra` adds a filter's own lazy fields.
 */
export function requestTarget(state: ProxyState, c: ProxyContext, req: AuthorizeRequest, extra: LazyFields = {}): SwiftTarget {
  const read = isRead(req.method);
  const base: SwiftTarget = {
    method: req.method,
    level: levelOf(req.container, req.object),
    account: req.account,
    container: req.container,
    object: req.object,
    referer: req.referer === undefined ? undefined : headerText(asByteString(req.referer)),
    acl: req.acl,
    read_acl: req.containerAcls ? req.containerAcls.read : read ? req.acl : undefined,
    write_acl: req.containerAcls ? req.containerAcls.write : read ? undefined : req.acl,
  };
  // Only an object PUT or DELETE with a sync key and a timestamp can be container sync: no lookup for the rest.
  const syncPossible = req.object !== undefined && (req.method === 'PUT' || req.method === 'DELETE') && req.headers.has('x-container-sync-key') && req.headers.has('x-timestamp');
  return lazyTarget(base, {
    account_acl: async () => (await fetchAccountInfo(state, c, req.account)).sysmeta['core-access-control'],
    container_sync: syncPossible ? () => containerSyncAllows(state, c, req) : undefined,
    ...extra,
  });
}
