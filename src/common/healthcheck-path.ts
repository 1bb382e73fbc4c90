/**
 * Swift's healthcheck filter answers when swob's req.path, the percent-decoded path, is
 * `/healthcheck`: `/%68ealthcheck` is the health check too. Shared by the proxy's filter and the
 * storage servers (whose sample pipelines start with `healthcheck`).
 */
import { asByteString } from '../compat/bytes';
import { unquoteBytes } from '../compat/quote';

export function isHealthcheckPath(raw: string): boolean {
  return raw === '/healthcheck' || (raw.includes('%') && unquoteBytes(asByteString(raw)) === '/healthcheck');
}
