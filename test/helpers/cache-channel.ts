/**
 * A worker's channel to the cache primary for tests: asynchronous, each message a serialised
 * copy, as node:cluster IPC delivers it.
 */
import { EventEmitter } from 'node:events';
import type { CacheChannel } from '../../src/proxy/cluster-cache';

export function channel(deliver: (m: unknown) => void): CacheChannel & EventEmitter {
  const ee = new EventEmitter() as CacheChannel & EventEmitter;
  ee.send = (m: unknown) => {
    const copy = JSON.parse(JSON.stringify(m)) as unknown;
    setImmediate(() => deliver(copy));
    return true;
  };
  return ee;
}
