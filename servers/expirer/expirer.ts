/**
 * The object expirer (swift/obj/expirer.py of Swift 2.30): takes the space of expired objects
 * back. Object servers queue a row `<delete_at>-<account>/<container>/<object>` in a container
 * of the `.expiring_objects` account for every object with an X-Delete-At (see
 * src/common/expiring-objects.ts); each pass of the expirer
 *
 *  1. lists the queue account's containers, oldest first, up to the first one named after a
 *     time still to come;
 *  2. lists each such container's rows, up to the first one still to come (rows with names
 *     that are not tasks are removed), and orders them round-robin over the target containers;
 *  3. sends each object's replicas a DELETE with `X-Timestamp` and `X-If-Delete-At` set to the
 *     task's time (so only the object that still expires then is removed, and a newer
 *     overwrite answers 409), with container-update headers so the object's row leaves its
 *     container listing;
 *  4. removes the task row from the queue (a DELETE to the queue container's servers), and
 *     deletes queue containers that are empty.
 *
 * Requests go straight to the storage servers named by the rings (no proxy; `BackendClient`
 * timeouts bound every one). Where Swift pops a task once a quorum of replicas agreed, sluice
 * waits until every replica has answered definitively (2xx, 404, 409 or 412): there is no
 * object replicator to remove a copy that an unreachable server still holds, so the task is
 * retried until that server answers too, or the task is older than `reclaimAge` (Swift's
 * bound on retries, a week). A pass never throws: failures are logged and retried next pass.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import { Ring, ringFileName } from '../../src/common/ring';
import { loadSwiftConf, type SwiftConf } from '../../src/common/swift-conf';
import { Timestamp } from '../../src/common/timestamp';
import { expiringObjectsAccount, InvalidTaskError, parseTaskObject, type ExpirerTask } from '../../src/common/expiring-objects';
import { spreadUpdateTargets } from '../../src/common/update-targets';
import { BackendClient, BackendError } from '../../src/common/backend-client';
import { generateTransId } from '../../src/common/trans-id';
import { DirectClient, isSuccess, statusOf, type AccountListingEntry, type ContainerListingEntry, type NodeAnswer } from './direct-client';
import { RateLimiter } from './rate-limit';

/** Rows of Swift's async container deletes: removed without X-If-Delete-At. */
const ASYNC_DELETE_TYPE = 'application/async-deleted';
/** Tasks gathered for the round-robin order before they are handed out (Swift's MAX_OBJECTS_TO_CACHE). */
const MAX_OBJECTS_TO_CACHE = 100_000;

export interface ObjectExpirerOptions {
  /** Where swift.conf and the account, container and object rings are. */
  swiftDir: string;
  /** Overrides swift.conf (tests). */
  swiftConf?: SwiftConf;
  /** Seconds between passes of the daemon loop (Swift's interval, 300). */
  interval?: number;
  /** Tasks worked on at once (Swift's concurrency, 1). */
  concurrency?: number;
  /** Tasks started per second at most; 0 for no limit (Swift's tasks_per_second, 50). */
  tasksPerSecond?: number;
  /** Seconds after its time a task that cannot be completed is given up (Swift's reclaim_age, a week). */
  reclaimAge?: number;
  /** Splits the queue between several expirers: this one takes tasks whose hash mod `processes` is `process`. */
  processes?: number;
  process?: number;
  /** Seconds to connect to, and to wait on, a storage server (0.5 and 10 by default). */
  connTimeout?: number;
  nodeTimeout?: number;
  /** The queue account under auto_create_account_prefix (Swift's expiring_objects_account_name). */
  expiringObjectsAccountName?: string;
  logger?: Logger;
}

/** What one pass did. */
export interface ExpirerPassStats {
  /** Queue containers whose time had come. */
  containers: number;
  /** Task rows due in them (malformed ones included). */
  tasks: number;
  /** Tasks carried out and removed from the queue (Swift's "objects expired"). */
  expired: number;
  /** Rows whose names are not tasks, removed. */
  malformed: number;
  /** Tasks left for a later pass because some server could not be reached or failed. */
  retried: number;
  /** Queue containers deleted once empty. */
  containersDeleted: number;
  /** Failures logged (listings, deletes, queue updates, unexpected exceptions). */
  errors: number;
  elapsedMs: number;
}

type QueueItem =
  | ({ kind: 'task'; queueContainer: string; name: string; asyncDelete: boolean } & ExpirerTask)
  | { kind: 'malformed'; queueContainer: string; name: string; reason: string };

/** Per queue container: may it be deleted once this pass's tasks are done? */
interface QueueContainerState {
  /** The whole listing was read and every row was this expirer's to do. */
  complete: boolean;
  /** Rows not (yet) removed from every replica. */
  remaining: number;
}

type ContainerPolicy = number | 'missing' | 'unavailable';

interface PassContext {
  stats: ExpirerPassStats;
  states: Map<string, QueueContainerState>;
  policies: Map<string, Promise<ContainerPolicy>>;
}

const majority = (n: number) => Math.floor(n / 2) + 1;

export class ObjectExpirer {
  readonly interval: number;
  readonly account: string;
  private readonly conf: SwiftConf;
  private readonly log: Logger;
  private readonly backend: BackendClient;
  private readonly client: DirectClient;
  private readonly accountRing: Ring;
  private readonly containerRing: Ring;
  private readonly objectRings = new Map<number, Ring | undefined>();
  private readonly concurrency: number;
  private readonly tasksPerSecond: number;
  private readonly reclaimAge: number;
  private readonly processes: number;
  private readonly process: number;
  private readonly stopping = new AbortController();
  private lastPass: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: ObjectExpirerOptions) {
    this.conf = opts.swiftConf ?? loadSwiftConf(opts.swiftDir);
    this.log = opts.logger ?? pino({ name: 'object-expirer' });
    this.interval = opts.interval ?? 300;
    this.concurrency = opts.concurrency ?? 1;
    this.tasksPerSecond = opts.tasksPerSecond ?? 50;
    this.reclaimAge = opts.reclaimAge ?? 604_800;
    this.processes = opts.processes ?? 0;
    this.process = opts.process ?? 0;
    const count = (name: string, v: number, min: number) => {
      if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer of at least ${min}, got ${v}`);
    };
    count('concurrency', this.concurrency, 1);
    count('processes', this.processes, 0);
    count('process', this.process, 0);
    if (this.processes > 0 && this.process >= this.processes) throw new RangeError('process must be less than processes');
    for (const [name, v] of [['interval', this.interval], ['tasksPerSecond', this.tasksPerSecond], ['reclaimAge', this.reclaimAge]] as const) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number, got ${v}`);
    }
    this.account = expiringObjectsAccount(this.conf.constraints.auto_create_account_prefix, opts.expiringObjectsAccountName);
    this.accountRing = Ring.forKind(opts.swiftDir, 'account', this.conf.hash);
    this.containerRing = Ring.forKind(opts.swiftDir, 'container', this.conf.hash);
    this.backend = new BackendClient({ connTimeout: opts.connTimeout ?? 0.5, nodeTimeout: opts.nodeTimeout ?? 10 });
    this.client = new DirectClient(this.backend, `object-expirer ${process.pid}`);
  }

  /** One pass over the queue; passes never overlap (a second call waits for the first). Never rejects. */
  runOnce(): Promise<ExpirerPassStats> {
    const pass = this.lastPass.then(() => this.pass());
    this.lastPass = pass;
    return pass;
  }

  /**
   * The daemon loop (Swift's run_forever): a first pass after a random part of the interval,
   * then one pass per interval, each started after a random part of what the last one left.
   */
  start(): void {
    if (this.loop || this.interval <= 0 || this.stopping.signal.aborted) return;
    const signal = this.stopping.signal;
    this.loop = (async () => {
      await sleep(Math.random() * this.interval * 1000, undefined, { signal }).catch(() => undefined);
      while (!signal.aborted) {
        const begin = Date.now();
        await this.runOnce();
        const elapsed = (Date.now() - begin) / 1000;
        const wait = elapsed < this.interval ? Math.random() * (this.interval - elapsed) : 0;
        await sleep(wait * 1000, undefined, { signal }).catch(() => undefined);
      }
    })();
  }

  /** Stops the loop, lets the task in hand finish, and closes connections. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.lastPass.catch(() => undefined);
    await this.backend.close();
  }

  // -------------------------------------------------------------------------------------------

  private async pass(): Promise<ExpirerPassStats> {
    const began = Date.now();
    const ctx: PassContext = {
      stats: { containers: 0, tasks: 0, expired: 0, malformed: 0, retried: 0, containersDeleted: 0, errors: 0, elapsedMs: 0 },
      states: new Map(),
      policies: new Map(),
    };
    const { stats } = ctx;
    try {
      const containers = await this.dueQueueContainers();
      stats.containers = containers.length;
      if (containers.length > 0) {
        this.log.info({ account: this.account, containers: containers.length }, 'Pass beginning for task account');
        await this.work(this.roundRobin(this.dueItems(containers, ctx)), (item) => this.handle(item, ctx));
        for (const [container, state] of ctx.states) {
          if (!state.complete || state.remaining > 0 || this.stopping.signal.aborted) continue;
          if (await this.deleteQueueContainer(container, ctx)) stats.containersDeleted++;
        }
      }
    } catch (err) {
      stats.errors++;
      this.log.error({ err }, 'Unhandled exception in expirer pass');
    }
    stats.elapsedMs = Date.now() - began;
    // Quiet passes (nothing due) log at debug so an idle cluster's log stays readable.
    const level = stats.containers > 0 || stats.errors > 0 ? 'info' : 'debug';
    this.log[level]({ ...stats }, `Pass completed in ${Math.floor(stats.elapsedMs / 1000)}s; ${stats.expired} objects expired`);
    return stats;
  }

  /** The queue account's containers named after a time that has come (iter_task_containers_to_expire). */
  private async dueQueueContainers(): Promise<string[]> {
    const due: string[] = [];
    for await (const row of this.client.list<AccountListingEntry>(this.accountRing, this.account)) {
      const at = Timestamp.tryParse(row.name);
      if (!at) {
        this.log.warn({ account: this.account, container: row.name }, 'Skipping queue container whose name is not a timestamp');
        continue;
      }
      if (at.compare(Timestamp.now()) > 0) break;
      due.push(row.name);
    }
    return due;
  }

  /** The due rows of the given queue containers, in listing order (iter_task_to_expire). */
  private async *dueItems(containers: string[], ctx: PassContext): AsyncGenerator<QueueItem> {
    for (const queueContainer of containers) {
      if (this.stopping.signal.aborted) return;
      const state: QueueContainerState = { complete: true, remaining: 0 };
      ctx.states.set(queueContainer, state);
      try {
        for await (const row of this.client.list<ContainerListingEntry>(this.containerRing, this.account, queueContainer)) {
          if (this.processes > 0 && hashMod(`${queueContainer}/${row.name}`, this.processes) !== this.process) {
            state.complete = false; // another expirer's task
            continue;
          }
          let task: ExpirerTask;
          try {
            task = parseTaskObject(row.name);
          } catch (err) {
            if (!(err instanceof InvalidTaskError)) throw err;
            ctx.stats.tasks++;
            state.remaining++;
            yield { kind: 'malformed', queueContainer, name: row.name, reason: err.message };
            continue;
          }
          if (task.deleteAt.compare(Timestamp.now()) > 0) {
            state.complete = false; // rows are sorted by time: the rest are still to come
            break;
          }
          ctx.stats.tasks++;
          state.remaining++;
          yield { kind: 'task', queueContainer, name: row.name, asyncDelete: row.content_type === ASYNC_DELETE_TYPE, ...task };
        }
      } catch (err) {
        state.complete = false;
        ctx.stats.errors++;
        this.log.error({ err, account: this.account, container: queueContainer }, 'Could not list queue container');
      }
    }
  }

  /**
   * Swift's round_robin_order: tasks grouped by target container and handed out one group at a
   * time in turn, so one container's objects are not all deleted back to back.
   */
  private async *roundRobin(items: AsyncIterable<QueueItem>): AsyncGenerator<QueueItem> {
    const groups = new Map<string, QueueItem[]>();
    let cached = 0;
    const drain = function* (): Generator<QueueItem> {
      const heads = new Map<string, number>();
      while (groups.size > 0) {
        for (const key of [...groups.keys()].sort()) {
          const group = groups.get(key)!;
          const at = heads.get(key) ?? 0;
          if (at < group.length) {
            heads.set(key, at + 1);
            yield group[at]!;
          } else groups.delete(key);
        }
      }
    };
    for await (const item of items) {
      const key = item.kind === 'task' ? `${item.account}/${item.container}` : '';
      const group = groups.get(key);
      if (group) group.push(item);
      else groups.set(key, [item]);
      if (++cached > MAX_OBJECTS_TO_CACHE) {
        yield* drain();
        cached = 0;
      }
    }
    yield* drain();
  }

  /** Runs `fn` over the items, `concurrency` at a time and no faster than tasksPerSecond. */
  private async work(items: AsyncIterator<QueueItem>, fn: (item: QueueItem) => Promise<void>): Promise<void> {
    const limiter = new RateLimiter(this.tasksPerSecond);
    const signal = this.stopping.signal;
    let failure: unknown;
    const worker = async () => {
      while (!signal.aborted && failure === undefined) {
        let next: IteratorResult<QueueItem>;
        try {
          next = await items.next();
        } catch (err) {
          // The source is finished once it threw; the other workers see `done` and stop too.
          failure ??= err;
          return;
        }
        if (next.done) return;
        await limiter.wait(signal);
        await fn(next.value);
      }
    };
    // Every worker is awaited before the pass ends, so passes never overlap.
    await Promise.all(Array.from({ length: this.concurrency }, worker));
    if (failure !== undefined) throw failure;
  }

  private async handle(item: QueueItem, ctx: PassContext): Promise<void> {
    const { stats } = ctx;
    const state = ctx.states.get(item.queueContainer)!;
    try {
      if (item.kind === 'malformed') {
        this.log.warn({ account: this.account, container: item.queueContainer, task: item.name, reason: item.reason }, 'Removing queue row that is not a task');
        if (await this.popQueue(item.queueContainer, item.name)) state.remaining--;
        stats.malformed++;
        return;
      }
      const target = `${item.account}/${item.container}/${item.object}`;
      const problem = await this.deleteActualObject(item, ctx);
      if (problem !== undefined) {
        const age = Timestamp.now().seconds - item.deleteAt.seconds;
        if (age <= this.reclaimAge) {
          stats.retried++;
          stats.errors++;
          this.log.error({ account: this.account, container: item.queueContainer, task: item.name, problem }, 'Could not expire object yet; will retry');
          return;
        }
        this.log.warn({ target, problem, ageSeconds: Math.floor(age) }, 'Giving up on expiring object older than reclaim_age');
      }
      if (await this.popQueue(item.queueContainer, item.name)) state.remaining--;
      stats.expired++;
    } catch (err) {
      stats.errors++;
      this.log.error({ err, account: this.account, container: item.queueContainer, task: item.name }, 'Exception while expiring object');
    }
  }

  /**
   * DELETEs the object on each of its replicas if its X-Delete-At is still the task's
   * (delete_actual_object). Undefined when every replica has settled it; otherwise what stands
   * in the way.
   */
  private async deleteActualObject(task: Extract<QueueItem, { kind: 'task' }>, ctx: PassContext): Promise<string | undefined> {
    const key = `${task.account}/${task.container}`;
    let policyLookup = ctx.policies.get(key);
    if (!policyLookup) {
      policyLookup = this.containerPolicy(task.account, task.container);
      ctx.policies.set(key, policyLookup);
    }
    const policy = await policyLookup;
    if (policy === 'missing') {
      // The proxy would answer 404 for every object of a missing container: nothing to delete.
      this.log.info({ target: `${key}/${task.object}` }, 'Container of expiring object not found; dropping its task');
      return undefined;
    }
    if (policy === 'unavailable') return `the container servers of ${key} did not answer`;
    const ring = this.objectRing(policy);
    if (!ring) return `no object ring for storage policy ${policy}`;

    const at = task.deleteAt.normal;
    const base: Record<string, string> = { 'x-timestamp': at, 'x-backend-storage-policy-index': String(policy), 'x-trans-id': generateTransId('') };
    // Only the object that still expires at this time goes; the expirer removes the row itself.
    if (!task.asyncDelete) Object.assign(base, { 'x-if-delete-at': at, 'x-backend-clean-expiring-object-queue': 'no' });
    const { part, nodes } = ring.getNodes(task.account, task.container, task.object);
    const headers = nodes.map(() => ({ ...base }));
    const cpart = this.containerRing.getPart(task.account, task.container);
    spreadUpdateTargets(headers, cpart, this.containerRing.getPartNodes(cpart));
    const answers = await this.client.toEach(nodes, part, 'DELETE', `/${key}/${task.object}`, headers);
    // 404: no such object; 409: a newer write; 412: its X-Delete-At moved (task.asyncDelete: no 412).
    const settled = (a: NodeAnswer) => isSuccess(a) || [404, 409, 412].includes(statusOf(a) ?? 0);
    const unsettled = answers.filter((a) => !settled(a));
    if (nodes.length > 0 && unsettled.length === 0) return undefined;
    return unsettled.map((a) => describe(a)).join('; ') || 'no object nodes';
  }

  /** The target container's storage policy from its servers (HEAD), as the proxy would look it up. */
  private async containerPolicy(account: string, container: string): Promise<ContainerPolicy> {
    const { part, nodes } = this.containerRing.getNodes(account, container);
    let notFound = 0;
    for (const node of nodes) {
      const answer = await this.client.send(node, part, 'HEAD', `/${account}/${container}`, { 'x-trans-id': generateTransId('') });
      if (!(answer instanceof BackendError) && isSuccess(answer)) {
        const n = Number(answer.headers['x-backend-storage-policy-index'] ?? '0');
        return Number.isInteger(n) && n >= 0 ? n : 0;
      }
      if (statusOf(answer) === 404) notFound++;
    }
    return nodes.length > 0 && notFound >= majority(nodes.length) ? 'missing' : 'unavailable';
  }

  private objectRing(policy: number): Ring | undefined {
    if (!this.objectRings.has(policy)) {
      let ring: Ring | undefined;
      try {
        ring = Ring.forKind(this.opts.swiftDir, 'object', this.conf.hash, policy);
      } catch (err) {
        this.log.error({ err, ring: join(this.opts.swiftDir, ringFileName('object', policy)) }, 'Cannot load object ring');
      }
      // A missing ring is looked for again next pass.
      if (ring) this.objectRings.set(policy, ring);
      return ring;
    }
    return this.objectRings.get(policy);
  }

  /** Removes a task row from every replica of its queue container (pop_queue); true when all did. */
  private async popQueue(queueContainer: string, name: string): Promise<boolean> {
    const { part, nodes } = this.containerRing.getNodes(this.account, queueContainer);
    const headers = { 'x-timestamp': Timestamp.now().internal, 'x-trans-id': generateTransId('') };
    const answers = await this.client.toEach(nodes, part, 'DELETE', `/${this.account}/${queueContainer}/${name}`, [headers]);
    const failed = answers.filter((a) => !isSuccess(a));
    if (failed.length > 0) {
      this.log.warn({ account: this.account, container: queueContainer, task: name, failures: failed.map(describe) }, 'Queue row not removed everywhere; it will be seen again');
    }
    return nodes.length > 0 && failed.length === 0;
  }

  /** Deletes an emptied queue container, updating the queue account's listing. */
  private async deleteQueueContainer(queueContainer: string, ctx: PassContext): Promise<boolean> {
    const { part, nodes } = this.containerRing.getNodes(this.account, queueContainer);
    if (nodes.length === 0) return false;
    const ts = Timestamp.now().internal;
    const headers = nodes.map(() => ({ 'x-timestamp': ts, 'x-trans-id': generateTransId('') }) as Record<string, string>);
    const { part: apart, nodes: anodes } = this.accountRing.getNodes(this.account);
    anodes.forEach((a, i) => {
      const h = headers[i % headers.length]!;
      h['x-account-partition'] = String(apart);
      h['x-account-host'] = h['x-account-host'] ? `${h['x-account-host']},${a.ip}:${a.port}` : `${a.ip}:${a.port}`;
      h['x-account-device'] = h['x-account-device'] ? `${h['x-account-device']},${a.device}` : a.device;
    });
    const answers = await this.client.toEach(nodes, part, 'DELETE', `/${this.account}/${queueContainer}`, headers);
    // 404 (already gone) and 409 (a row arrived meanwhile) are fine, as for Swift's expirer.
    const failed = answers.filter((a) => !isSuccess(a) && ![404, 409].includes(statusOf(a) ?? 0));
    if (failed.length > 0) {
      ctx.stats.errors++;
      this.log.error({ account: this.account, container: queueContainer, failures: failed.map(describe) }, 'Could not delete empty queue container');
    }
    return answers.some(isSuccess);
  }
}

/** Swift's hash_mod: which of `divisor` expirers a task belongs to. */
export function hashMod(name: string, divisor: number): number {
  return Number(BigInt('0x' + createHash('md5').update(name, 'utf8').digest('hex')) % BigInt(divisor));
}

function describe(a: NodeAnswer): string {
  const where = `${a.node.ip}:${a.node.port}/${a.node.device}`;
  return a instanceof BackendError ? `${where}: ${a.message}` : `${where}: ${a.status}`;
}

/** Creates an expirer and starts its loop (unless interval is 0). */
export function startObjectExpirer(opts: ObjectExpirerOptions): ObjectExpirer {
  const expirer = new ObjectExpirer(opts);
  expirer.start();
  return expirer;
}
