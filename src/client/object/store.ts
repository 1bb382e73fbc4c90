/**
 * ObjectStore: the object-storage client on a Session (keystoneauth's pattern of one Session
 * shared by every service client). Every request goes to the storage URL the Session's
 * catalog (or TempAuth) gives for `endpointFilter` (default: the object-store endpoint).
 */
import type { Writable } from 'node:stream';
import type { EndpointFilter, SessionLike } from '../types';
import { quote, unquote } from '../../compat/quote';
import { AccountClient } from './account';
import { bulkDelete, type BulkDeleteResult } from './bulk-delete';
import { ContainerClient } from './container';
import { checkContainerName, checkObjectName, StoreCore, type SwiftInfo, type Target } from './core';
import { download, type DownloadOptions, type DownloadResult } from './download';
import { ObjectClientUsageError } from './errors';
import { ObjectClient } from './object';
import { generateTempUrl, type TempUrlDigest } from './tempurl';
import { upload, type UploadOptions, type UploadResult, type UploadSource } from './upload';

export interface ObjectStoreOptions {
  endpointFilter?: EndpointFilter;
}

export interface StoreTempUrlOptions {
  method: string;
  container: string;
  /** The object, or with `prefix` the name prefix every signed object starts with. */
  object: string;
  prefix?: boolean;
  seconds?: number | string;
  expiresAt?: Date | number | string;
  /** The key to sign with; without it, the Temp-URL-Key of `keySource` is read (an owner's HEAD). */
  key?: string;
  /** Which key to read when `key` is not given: 'account' (default) or 'container'. */
  keySource?: 'account' | 'container';
  digest?: TempUrlDigest;
  ipRange?: string;
  iso8601?: boolean;
}

export class ObjectStore {
  private readonly core: StoreCore;
  readonly account: AccountClient;

  constructor(
    readonly session: SessionLike,
    opts: ObjectStoreOptions = {},
  ) {
    this.core = new StoreCore(session, opts.endpointFilter);
    this.account = new AccountClient(this.core);
  }

  container(name: string): ContainerClient {
    checkContainerName(name);
    return new ContainerClient(this.core, name);
  }

  object(container: string, name: string): ObjectClient {
    checkContainerName(container);
    checkObjectName(name);
    return new ObjectClient(this.core, container, name);
  }

  /** The storage URL (the account's URL) in use. */
  storageUrl(): Promise<string> {
    return this.core.storageUrl();
  }

  /** The cluster's capabilities (GET /info), fetched once. */
  info(): Promise<SwiftInfo> {
    return this.core.info();
  }

  /** Deletes `container/object` paths (or empty containers) with the bulk middleware when the cluster has it. */
  bulkDelete(paths: readonly (string | Target)[], opts: { signal?: AbortSignal } = {}): Promise<BulkDeleteResult> {
    return bulkDelete(this.core, paths, opts);
  }

  /** Uploads a file (by path) or a stream, in segments when larger than `segmentSize`. */
  upload(container: string, name: string, source: UploadSource, opts: UploadOptions = {}): Promise<UploadResult> {
    return upload(this.core, container, name, source, opts);
  }

  /** Downloads to a file path or a writable stream, checking the ETag. */
  download(container: string, name: string, dest: string | Writable, opts: DownloadOptions = {}): Promise<DownloadResult> {
    return download(this.core, container, name, dest, opts);
  }

  /** An absolute temporary URL for an object (or a prefix), signed as swiftclient signs it. */
  async tempUrl(opts: StoreTempUrlOptions): Promise<string> {
    checkContainerName(opts.container);
    if (!opts.prefix) checkObjectName(opts.object);
    const storage = new URL(await this.core.storageUrl());
    let key = opts.key;
    if (key === undefined) {
      const source = opts.keySource ?? 'account';
      const stat = source === 'account' ? await this.account.stat() : await this.container(opts.container).stat();
      key = stat.metadata['temp-url-key'] ?? stat.metadata['temp-url-key-2'];
      if (key === undefined) throw new ObjectClientUsageError(`the ${source} has no Temp-URL-Key (or it is not visible to this user)`);
    }
    // The signature covers the unquoted path, as the tempurl middleware checks PATH_INFO.
    const path = `${unquote(storage.pathname.replace(/\/+$/, ''))}/${opts.container}/${opts.object}`;
    const signed = generateTempUrl({ ...opts, path, key });
    const q = signed.indexOf('?');
    let query = signed.slice(q);
    if (opts.prefix) query = query.replace(/&temp_url_prefix=.*$/, `&temp_url_prefix=${quote(opts.object, '')}`);
    return `${storage.origin}${quote(signed.slice(0, q), '/')}${query}`;
  }
}
