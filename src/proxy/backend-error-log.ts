/**
 * A log line for each storage-node request that failed (no answer, or a connection cut), as
 * Swift's proxy logs `ERROR with Object server 10.0.0.1:6200/sda re: ...` with the transaction:
 * without it a 503 to the client says nothing of which node failed, or how.
 */
import type { Logger } from 'pino';
import type { BackendError, BackendRequest } from '../common/backend-client';
import { ClientDisconnectedError, ClientTimeoutError } from './request-body';

export function backendErrorLogger(logger: Logger): (err: BackendError, req: BackendRequest) => void {
  return (err, req) => {
    // An upload the proxy cut because its client went away or stalled: the access line's 499 or
    // 408 says so, as Swift logs a client disconnect and not a backend error.
    if (err.cause instanceof ClientDisconnectedError || err.cause instanceof ClientTimeoutError) return;
    const { ip, port, device } = err.node;
    const fields = {
      transaction_id: req.headers['x-trans-id'],
      node: `${ip.includes(':') ? `[${ip}]` : ip}:${port}/${device}`,
      method: req.method,
      path: `/${device}/${req.partition}${req.path}`,
      kind: err.kind,
      err: err.message,
    };
    // A node that could not be reached or did not answer is an error; a connection cut
    // mid-request, a warning.
    if (err.kind === 'io') logger.warn(fields, 'backend request failed');
    else logger.error(fields, 'backend request failed');
  };
}
