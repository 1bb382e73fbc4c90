/**
 * Account and container info for authorization (Swift's get_account_info(env, app,
 * swift_source: TA for tempauth, KS for keystoneauth)): the proxy's own cached lookup, reached through a minimal controller.
 */
import type { ProxyContext } from '../proxy/context';
import type { ProxyState } from '../proxy/state';
import type { AccountInfo, ContainerInfo } from '../proxy/info-cache';
import { BaseController } from '../proxy/controllers/base';

class InfoLookup extends BaseController {}

export function fetchAccountInfo(state: ProxyState, c: ProxyContext, account: string): Promise<AccountInfo> {
  const lookup = new InfoLookup(state, { version: 'v1', account, container: undefined, object: undefined });
  return lookup.accountInfo(c, account);
}

export function fetchContainerInfo(state: ProxyState, c: ProxyContext, account: string, container: string): Promise<ContainerInfo> {
  const lookup = new InfoLookup(state, { version: 'v1', account, container, object: undefined });
  return lookup.containerInfo(c, account, container);
}
