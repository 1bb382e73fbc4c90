/** Account operations: HEAD (typed stat), POST metadata, and the container listing. */
import type { StoreCore } from './core';
import { accountStat, metaHeaders, type AccountStat } from './headers';
import { containerEntries, type ContainerEntry, type ListOptions } from './listing';

export interface AccountPostOptions {
  /** Extra headers (e.g. X-Account-Access-Control, X-Remove-Account-Meta-*). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export class AccountClient {
  constructor(private readonly core: StoreCore) {}

  async stat(opts: { signal?: AbortSignal } = {}): Promise<AccountStat> {
    const res = await this.core.call({}, { method: 'HEAD', signal: opts.signal });
    await res.text();
    return accountStat(res.headers);
  }

  /** Sets metadata (`{}` with only headers is fine); an empty value removes a key. */
  async post(meta: Record<string, string> = {}, opts: AccountPostOptions = {}): Promise<void> {
    const res = await this.core.call({}, { method: 'POST', headers: { ...metaHeaders('account', meta), ...opts.headers }, signal: opts.signal });
    await res.text();
  }

  /** Every container (or those under `prefix`), paged `limit` at a time. */
  containers(opts: ListOptions = {}): AsyncGenerator<ContainerEntry> {
    return containerEntries((query, signal) => this.core.call({}, { method: 'GET', query, signal }), opts);
  }
}
