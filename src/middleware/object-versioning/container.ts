/**
 * Container requests under object versioning (object_versioning.py ContainerContext):
 * X-Versions-Enabled on PUT/POST creates the hidden versions container and records it in
 * sysmeta; HEAD/GET show X-Versions-Enabled and count the versions' bytes in
 * X-Container-Bytes-Used; listings show a versioned object's own size and etag (not its
 * link's); DELETE is refused while versions remain and removes the versions container.
 */
import type { ParsedPath, ProxyContext } from '../../proxy/context';
import type { ProxyState } from '../../proxy/state';
import { ContainerController } from '../../proxy/controllers/container';
import { editResponseHeaders } from '../../proxy/response';
import { readJsonListing, replaceListing } from '../listing-rewrite';
import type { Identity } from '../../proxy/subrequest';
import { rawQueryOf } from '../../proxy/request-target';
import { HttpException } from '../../compat/http-exception';
import { pyJsonDumps } from '../../compat/json';
import { swobParams } from '../../compat/query';
import { quote, unquote } from '../../compat/quote';
import { configTrue } from '../../compat/truthy';
import { splitPath } from '../../common/path';
import { drain } from '../symlink';
import { CLIENT_VERSIONS_ENABLED, splitVersionFromName, SYSMETA_VERSIONS_CONT, SYSMETA_VERSIONS_ENABLED, versionsContainerName } from './names';
import { authorizeWrite, pathOf, type VersioningRequests } from './requests';
import { listVersions } from './list-versions';

/** Listing entries as the container server (and symlink) write them. */
export type Entry = Record<string, unknown>;

/** cgi.parse_header's params of a listing hash (`<etag>; k=v; ...`), in order. */
function hashParams(hash: string): string {
  return hash
    .split(';')
    .slice(1)
    .map((p) => p.trim())
    .filter((p) => p.includes('='))
    .map((p) => {
      const i = p.indexOf('=');
      return `; ${p.slice(0, i).trim().toLowerCase()}=${p.slice(i + 1).trim()}`;
    })
    .join('');
}

export class ContainerVersioning {
  constructor(
    private readonly state: ProxyState,
    private readonly requests: VersioningRequests,
  ) {}

  private info(c: ProxyContext, path: ParsedPath) {
    return new ContainerController(this.state, path).containerInfo(c);
  }

  /** enable_versioning: PUT/POST with X-Versions-Enabled. */
  async enable(c: ProxyContext, path: ParsedPath, identity: Identity, next: () => Promise<void>): Promise<void> {
    const headers = c.get('headers');
    const info = await this.info(c, path);
    // One style of versioning per container.
    if (info.sysmeta['versions-location'] || info.versions) {
      throw new HttpException(400, 'Cannot enable object versioning on a container that is already using the legacy versioned writes feature.');
    }
    if (info.syncTo) throw new HttpException(400, 'Cannot enable object versioning on a container configured as source of container syncing.');
    const enabled = configTrue(headers.get(CLIENT_VERSIONS_ENABLED));
    // Python's str(bool), as Swift stores it.
    headers.set(SYSMETA_VERSIONS_ENABLED, enabled ? 'True' : 'False');
    let created: string | undefined;
    const policyHeaders: Record<string, string> = {};
    if (enabled) {
      // sluice: the caller is authorized before the hidden container is made (Swift makes it,
      // and removes it again when the client's request then fails).
      await authorizeWrite(c, identity, path, undefined);
      if (info.status >= 200 && info.status < 300) {
        const policy = this.state.swiftConf.policies.find((p) => p.index === info.storagePolicy);
        if (policy?.deprecated) throw new HttpException(400, 'Cannot enable object versioning on a container that uses a deprecated storage policy.');
        if (policy) policyHeaders['x-storage-policy'] = policy.name;
      } else if (c.req.method === 'PUT' && headers.has('x-storage-policy')) {
        policyHeaders['x-storage-policy'] = headers.get('x-storage-policy')!;
      }
      const versionsCont = versionsContainerName(path.container!);
      const res = await this.requests.preAuthed(identity, { method: 'PUT', path: pathOf(path.version, path.account, versionsCont), headers: policyHeaders });
      await drain(res);
      if (!((res.status >= 200 && res.status < 300) || res.status === 409)) throw new HttpException(500, 'Error enabling object versioning');
      headers.set(SYSMETA_VERSIONS_CONT, quote(versionsCont));
      created = versionsCont;
    }
    await next();
    if (created !== undefined && !(c.res.status >= 200 && c.res.status < 300)) {
      // The client's request failed: take the versions container away again, for a retry.
      const res = await this.requests.preAuthed(identity, { method: 'DELETE', path: pathOf(path.version, path.account, created), headers: policyHeaders });
      await drain(res);
    }
    this.showEnabled(c);
  }

  /** X-Container-Sysmeta-Versions-Enabled is shown to clients as X-Versions-Enabled. */
  private showEnabled(c: ProxyContext): void {
    const value = c.res.headers.get(SYSMETA_VERSIONS_ENABLED);
    if (value !== null) editResponseHeaders(c, (h) => h.set(CLIENT_VERSIONS_ENABLED, value));
  }

  /** handle_delete: no versions may remain; the versions container goes first. */
  async delete(c: ProxyContext, path: ParsedPath, identity: Identity, next: () => Promise<void>): Promise<void> {
    const info = await this.info(c, path);
    const versionsCont = unquote(info.sysmeta['versions-container'] ?? '');
    if (versionsCont) {
      // sluice: only someone who may delete the container learns about its versions.
      await authorizeWrite(c, identity, path, undefined);
      const target = pathOf(path.version, path.account, versionsCont);
      const head = await this.requests.preAuthed(identity, { method: 'HEAD', path: target });
      await drain(head);
      const ok = head.status >= 200 && head.status < 300;
      if (ok && Number(head.headers.get('x-container-object-count') ?? 0) > 0) throw new HttpException(409, 'Delete all versions before deleting container.');
      if (!ok && head.status !== 404) throw new HttpException(500, 'Error deleting versioned container');
      const del = await this.requests.preAuthed(identity, { method: 'DELETE', path: target });
      await drain(del);
      if (!(del.status >= 200 && del.status < 300) && del.status !== 404) throw new HttpException(500, 'Error deleting versioned container');
    }
    await next();
  }

  /** handle_request: every other container request (HEAD, GET, POST without the flag, ...). */
  async other(c: ProxyContext, path: ParsedPath, identity: Identity, next: () => Promise<void>): Promise<void> {
    await next();
    const res = c.res;
    const ok = res.status >= 200 && res.status < 300;
    this.showEnabled(c);
    let location = c.res.headers.get(SYSMETA_VERSIONS_CONT) ?? '';
    if (location) {
      location = unquote(location);
      const used = c.res.headers.get('x-container-bytes-used');
      if (used !== null) {
        const head = await this.requests.preAuthed(identity, { method: 'HEAD', path: pathOf('v1', path.account, location) });
        await drain(head);
        if (head.status >= 200 && head.status < 300) {
          const total = Number(used) + Number(head.headers.get('x-container-bytes-used') ?? 0);
          editResponseHeaders(c, (h) => h.set('x-container-bytes-used', String(total)));
        }
      }
    } else if (ok && !path.container!.startsWith('\x00')) {
      // Never enabled as far as this info says: a versions listing still looks where it would be.
      location = versionsContainerName(path.container!);
    }
    if (!ok || c.req.method !== 'GET') return;
    const listing = await readJsonListing(c);
    if (!listing) return;
    const params = swobParams(rawQueryOf(c));
    const versions = params.has('versions');
    for (const item of listing) this.showTarget(item, path, location, versions);
    if (versions) {
      await listVersions(c, path, identity, this.requests, location, listing, res);
      return;
    }
    replaceListing(c, res, Buffer.from(pyJsonDumps(listing), 'utf8'));
  }

  /** A link to a version shows the version's size and etag, and (unless ?versions) the version-id path. */
  private showTarget(item: Entry, path: ParsedPath, location: string, versions: boolean): void {
    if (!('symlink_path' in item && 'symlink_etag' in item && 'symlink_bytes' in item)) return;
    let parts: (string | undefined)[];
    try {
      parts = splitPath(unquote(String(item.symlink_path)), 4, 4, true);
    } catch {
      return;
    }
    const [, account, container, object] = parts as [string, string, string, string];
    // A link into another archive container keeps its extra info.
    if (container !== location) return;
    const params = hashParams(String(item.hash ?? ''));
    item.bytes = Number.parseInt(String(item.symlink_bytes), 10);
    delete item.symlink_bytes;
    item.version_symlink = true;
    item.hash = String(item.symlink_etag) + params;
    delete item.symlink_etag;
    const [name, version] = splitVersionFromName(object);
    if (version !== undefined && !versions) item.symlink_path = `${pathOf('v1', account, path.container!, name)}?version-id=${version.internal}`;
  }
}
