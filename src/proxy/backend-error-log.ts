/**
 * A log line for each storage-node request that failed (no answer, or a connection cut), as
 * Swift's proxy logs `ERROR with Object server 10.0.0.1:6200/sda re: ...` with the transaction:
 * without it a 503 to the client says nothing of which node failed, or how.
 */
import type { Logger } from 'pino';
import type { BackendError, BackendRequest } from '../common/backend-client';

export function backendErrorLogger(logger: Logger): (err: BackendError, req: BackendRequest) => void {
  return (err, req) => {
    const { ip, port, device } = err.node;
    const fields = {
      transaction_id: req.headers['x-trans-id'],
      node: `${ip.includes(':') ? `[${ip}]` : ip}:${port}/${device}`,
      method: req.method,
      path: `/${device}/${req.partition}${req.path}`,
      kind: err.kind,
      err: err.message,
    };
    // A node that could not be reached or did not answer is the node's fault; a connection cut
    // mid-request may be the client's (its upload stopped), so it is a warning.
    if (err.kind === 'io') logger.warn(fields, 'backend request failed');
    else logger.error(fields, 'backend request failed');
  };
}
