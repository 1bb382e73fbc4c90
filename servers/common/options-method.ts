/**
 * OPTIONS on a storage server (swift/common/base_storage_server.py): 200 with the methods it
 * answers and `Server: <type>-server/<version>`, which `swift-recon --validate-servers` checks
 * against the ring it read the server from.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { send } from './http';

/** What sluice's container and object servers answer (Swift's also have REPLICATE, SSYNC/UPDATE, which sluice does not speak). */
const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];

export function sendOptions(req: IncomingMessage, res: ServerResponse, type: 'container' | 'object'): void {
  send(req, res, 200, { headers: { Allow: METHODS.join(', '), Server: `${type}-server/sluice` }, body: '' });
}
