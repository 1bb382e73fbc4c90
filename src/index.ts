/**
 * sluice's public API (`import ... from 'sluice'`): the proxy server, its configuration, custom
 * pipeline filters and a whole cluster in one process. The storage servers are in
 * `sluice/servers`; `sluice/testing` has the throwaway test cluster.
 */
export { startProxyServer, type ProxyServerOptions, type RunningProxy } from './proxy/server';
export { parseProxyConfig, loadProxyConfig, ConfigError, type ProxyConfig, type Section } from './proxy/config';
// Custom filters: define one with defineFilter and add it with registerFilter.
export {
  defineFilter,
  registerFilter,
  filterRegistry,
  FilterRegistry,
  type FilterDefinition,
  type FilterContext,
  type FilterInstance,
  type InfoSections,
} from './proxy/filter';
export type { ProxyContext, ProxyEnv, ProxyVariables } from './proxy/context';
// For filters: Swift-shaped answers, and response headers changed in place.
export { swiftResponse, editResponseHeaders } from './proxy/response';
// Importing the public API registers sluice's built-in filters.
import './middleware/index';
export { startCluster, type TestCluster, type DevClusterOptions } from './cluster/dev-cluster';
