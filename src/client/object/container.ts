/** Container operations: HEAD, PUT, POST (metadata and validated ACLs), DELETE, object listing. */
import { validateContainerAcl, type ContainerAclHeaders } from '../acl/container-acl';
import type { StoreCore } from './core';
import { containerStat, metaHeaders, type ContainerStat } from './headers';
import { objectEntries, type ObjectEntry, type ObjectListOptions, type SubdirEntry } from './listing';

export interface ContainerWriteOptions {
  /** Both ACLs from a builder: `containerAcl().read({...}).write({...})`. */
  acl?: { headers(): ContainerAclHeaders };
  /** X-Container-Read, checked before sending (see src/client/acl/container-acl.ts). */
  read?: string;
  /** X-Container-Write, checked before sending. */
  write?: string;
  /** Extra headers (X-Storage-Policy on create, X-Versions-Location, quotas, ...). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

function aclHeaders(opts: ContainerWriteOptions): Record<string, string> {
  const built = opts.acl?.headers() ?? {};
  const out: Record<string, string> = {};
  if (built['X-Container-Read'] !== undefined) out['X-Container-Read'] = validateContainerAcl('read', built['X-Container-Read']);
  if (built['X-Container-Write'] !== undefined) out['X-Container-Write'] = validateContainerAcl('write', built['X-Container-Write']);
  if (opts.read !== undefined) out['X-Container-Read'] = validateContainerAcl('read', opts.read);
  if (opts.write !== undefined) out['X-Container-Write'] = validateContainerAcl('write', opts.write);
  return out;
}

export class ContainerClient {
  constructor(
    private readonly core: StoreCore,
    readonly name: string,
  ) {}

  async stat(opts: { signal?: AbortSignal } = {}): Promise<ContainerStat> {
    const res = await this.core.call({ container: this.name }, { method: 'HEAD', signal: opts.signal });
    await res.text();
    return containerStat(res.headers);
  }

  /** PUT: creates the container (201) or updates an existing one (202). True when it was created. */
  async create(meta: Record<string, string> = {}, opts: ContainerWriteOptions = {}): Promise<boolean> {
    const headers = { ...metaHeaders('container', meta), ...aclHeaders(opts), ...opts.headers };
    const res = await this.core.call({ container: this.name }, { method: 'PUT', headers, signal: opts.signal });
    await res.text();
    return res.status === 201;
  }

  async post(meta: Record<string, string> = {}, opts: ContainerWriteOptions = {}): Promise<void> {
    const headers = { ...metaHeaders('container', meta), ...aclHeaders(opts), ...opts.headers };
    const res = await this.core.call({ container: this.name }, { method: 'POST', headers, signal: opts.signal });
    await res.text();
  }

  /** DELETE; the server answers 409 for a container that still holds objects. */
  async delete(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const res = await this.core.call({ container: this.name }, { method: 'DELETE', signal: opts.signal });
    await res.text();
  }

  /** Objects (and `subdir` entries with a delimiter), paged `limit` at a time. */
  objects(opts: ObjectListOptions = {}): AsyncGenerator<ObjectEntry | SubdirEntry> {
    return objectEntries((query, signal) => this.core.call({ container: this.name }, { method: 'GET', query, signal }), opts);
  }
}
