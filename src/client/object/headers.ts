/**
 * Header conventions of the Swift API: metadata headers (`X-<Kind>-Meta-<Key>`), their values as
 * UTF-8 bytes on the wire, and the typed views of HEAD answers the client returns.
 */
import { bytesOf, asByteString, textIfUtf8 } from '../../compat/bytes';

export type MetaKind = 'account' | 'container' | 'object';

/**
 * Header values arrive as latin-1 strings of the raw bytes; Swift sends metadata as UTF-8, so a
 * value that is valid UTF-8 is shown decoded (what swiftclient's py3 header handling gives).
 */
export function headerText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\xff]*$/.test(value) ? textIfUtf8(asByteString(value)) : value;
}

/** Header values must be byte strings: non-ASCII text goes as its UTF-8 bytes, as swiftclient encodes it. */
export function headerValue(text: string): string {
  return bytesOf(text);
}

/**
 * `{ color: 'blue' }` → `{ 'X-Object-Meta-color': 'blue' }`; an empty value removes the key on
 * POST, as in Swift. Keys are refused when they could not be a header name.
 */
export function metaHeaders(kind: MetaKind, meta: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const prefix = `X-${kind[0]!.toUpperCase()}${kind.slice(1)}-Meta-`;
  for (const [k, v] of Object.entries(meta ?? {})) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k)) throw new TypeError(`metadata key ${JSON.stringify(k)} is not a valid header name part`);
    out[prefix + k] = headerValue(v);
  }
  return out;
}

/** The `X-<Kind>-Meta-*` headers of an answer, keys lower case without the prefix, values decoded. */
export function metaOf(kind: MetaKind, headers: Record<string, string>): Record<string, string> {
  const prefix = `x-${kind}-meta-`;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = headerText(v);
  return out;
}

function int(headers: Record<string, string>, name: string): number {
  const v = headers[name];
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : 0;
}

/** ETags come quoted from some middlewares (SLO manifests, Swift's object server): compare bare. */
export function bareEtag(etag: string | undefined): string {
  if (!etag) return '';
  return etag.length > 1 && etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag;
}

export interface AccountStat {
  containerCount: number;
  objectCount: number;
  bytesUsed: number;
  metadata: Record<string, string>;
  /** Every response header, names lower case. */
  headers: Record<string, string>;
}

export interface ContainerStat {
  objectCount: number;
  bytesUsed: number;
  /** X-Container-Read / -Write, as the server shows them to the owner. */
  read?: string;
  write?: string;
  storagePolicy?: string;
  metadata: Record<string, string>;
  headers: Record<string, string>;
}

export interface ObjectStat {
  contentLength: number;
  contentType: string;
  etag: string;
  lastModified?: Date;
  /** What kind of large object this is: 'slo' or 'dlo' manifests, or undefined for a plain object. */
  largeObject?: 'slo' | 'dlo';
  /** X-Object-Manifest of a DLO (`<container>/<prefix>`). */
  manifest?: string;
  metadata: Record<string, string>;
  headers: Record<string, string>;
}

export function accountStat(headers: Record<string, string>): AccountStat {
  return {
    containerCount: int(headers, 'x-account-container-count'),
    objectCount: int(headers, 'x-account-object-count'),
    bytesUsed: int(headers, 'x-account-bytes-used'),
    metadata: metaOf('account', headers),
    headers,
  };
}

export function containerStat(headers: Record<string, string>): ContainerStat {
  return {
    objectCount: int(headers, 'x-container-object-count'),
    bytesUsed: int(headers, 'x-container-bytes-used'),
    read: headers['x-container-read'],
    write: headers['x-container-write'],
    storagePolicy: headers['x-storage-policy'],
    metadata: metaOf('container', headers),
    headers,
  };
}

export function objectStat(headers: Record<string, string>): ObjectStat {
  const lm = headers['last-modified'];
  const slo = /^(true|1|yes|on|t|y)$/i.test(headers['x-static-large-object'] ?? '');
  const manifest = headers['x-object-manifest'];
  return {
    contentLength: int(headers, 'content-length'),
    contentType: headers['content-type'] ?? '',
    etag: bareEtag(headers.etag),
    lastModified: lm ? new Date(lm) : undefined,
    largeObject: slo ? 'slo' : manifest !== undefined ? 'dlo' : undefined,
    manifest: manifest !== undefined ? headerText(manifest) : undefined,
    metadata: metaOf('object', headers),
    headers,
  };
}
