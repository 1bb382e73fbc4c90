/**
 * Which object server tells which container server about an object write (Swift's
 * ObjectController._backend_requests): the container replicas, and the expiring-objects queue
 * replicas when the object has an X-Delete-At, are spread over the object requests so every
 * container replica hears from some object server, each as few times as possible.
 */
import type { RingDevice } from './ring';

type UpdateNode = Pick<RingDevice, 'ip' | 'port' | 'device'>;

/** Swift's quorum_size for replicated data: a simple majority. */
const majority = (n: number) => Math.floor(n / 2) + 1;

/**
 * num_container_updates: enough updates that, even if only a quorum of object writes succeed,
 * a quorum of container replicas is updated; and at least one per container replica.
 */
export function numContainerUpdates(containerReplicas: number, objectReplicas: number): number {
  return Math.max(majority(containerReplicas) + objectReplicas - majority(objectReplicas), containerReplicas);
}

const csvAppend = (existing: string | undefined, value: string) => (existing ? `${existing},${value}` : value);
/** `ip:port` as Swift writes it (IPv6 unbracketed: receivers split at the last colon). */
const hostOf = (node: UpdateNode) => `${node.ip}:${node.port}`;

export interface DeleteAtTarget {
  /** The queue container (get_expirer_container). */
  container: string;
  partition: number;
  nodes: readonly UpdateNode[];
}

/**
 * Adds X-Container-Partition/-Host/-Device to the per-object-node header sets (lower-case
 * names), cycling through the container replicas; with `deleteAt`, X-Delete-At-Container/
 * -Partition/-Host/-Device too, filled from the last object node backwards so the queue
 * updates land on other object servers than the container updates.
 */
export function spreadUpdateTargets(
  headers: Record<string, string>[],
  containerPartition: number,
  containerNodes: readonly UpdateNode[],
  deleteAt?: DeleteAtTarget,
): void {
  const n = headers.length;
  if (n === 0 || containerNodes.length === 0) return;
  const updates = numContainerUpdates(containerNodes.length, n);
  for (let i = 0; i < updates; i++) {
    const h = headers[i % n]!;
    const cnode = containerNodes[i % containerNodes.length]!;
    h['x-container-partition'] = String(containerPartition);
    h['x-container-host'] = csvAppend(h['x-container-host'], hostOf(cnode));
    h['x-container-device'] = csvAppend(h['x-container-device'], cnode.device);
    if (deleteAt && deleteAt.nodes.length > 0) {
      const d = headers[n - 1 - (i % n)]!;
      const dnode = deleteAt.nodes[i % deleteAt.nodes.length]!;
      d['x-delete-at-container'] = deleteAt.container;
      d['x-delete-at-partition'] = String(deleteAt.partition);
      d['x-delete-at-host'] = csvAppend(d['x-delete-at-host'], hostOf(dnode));
      d['x-delete-at-device'] = csvAppend(d['x-delete-at-device'], dnode.device);
    }
  }
}
