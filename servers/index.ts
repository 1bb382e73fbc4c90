/**
 * The storage servers for code that runs them in-process (`import ... from 'sluice/servers'`).
 * Each start function listens on opts.host/opts.port (127.0.0.1 and an ephemeral port by
 * default) and resolves to a RunningServer whose close() stops it.
 */
export { startAccountServer } from './account/server';
export { startContainerServer } from './container/server';
export { startObjectServer } from './object/server';
export { ObjectExpirer, startObjectExpirer, type ObjectExpirerOptions, type ExpirerPassStats } from './expirer/expirer';
export type { StorageServerOptions } from './options';
export type { RunningServer } from './common/http';
