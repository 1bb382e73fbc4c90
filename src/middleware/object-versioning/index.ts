/**
 * Object versioning, the API of Swift 2.24+ (swift/common/middleware/versioned_writes/
 * object_versioning.py): `X-Versions-Enabled` on a container, every object PUT kept as a
 * version in a hidden container of the reserved namespace (`\0versions\0<container>`) with
 * the object itself a static symlink to its current version, delete markers, `?versions`
 * listings and `?version-id=` requests. It runs inside the versioned_writes filter when
 * `allow_object_versioning` is true, below the legacy versioned writes, as Swift wires them;
 * it needs symlink further down the pipeline.
 *
 * Its own backend work goes as pre-authenticated subrequests naming reserved names; what the
 * client asked for is still authorized as the client's (by the proxy, or here before any
 * version is touched).
 */
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from '../../proxy/context';
import type { ProxyState } from '../../proxy/state';
import { exceptionResponse, replaceResponse } from '../../proxy/response';
import { rawQueryOf } from '../../proxy/request-target';
import { captureIdentity, type Subrequest } from '../../proxy/subrequest';
import { ObjectController } from '../../proxy/controllers/object';
import { HttpException } from '../../compat/http-exception';
import { getParam, swobParams } from '../../compat/query';
import { unquote } from '../../compat/quote';
import { configTrue } from '../../compat/truthy';
import { requestPath } from '../symlink';
import { listContainers } from './account';
import { ContainerVersioning } from './container';
import { CLIENT_VERSIONS_ENABLED } from './names';
import { ObjectVersioning, type Versioned } from './object';
import { VersioningRequests } from './requests';
import { VersionIdRequests } from './version-id';

export function objectVersioning(state: ProxyState, app: Subrequest): MiddlewareHandler<ProxyEnv> {
  const requests = new VersioningRequests(app);
  const containers = new ContainerVersioning(state, requests);
  const objects = new ObjectVersioning(requests, state.constraints.max_file_size);
  const versionIds = new VersionIdRequests(state, requests, objects);
  return async (c, next) => {
    const path = requestPath(c, state);
    if (!path) return next();
    const method = c.req.method;
    const identity = captureIdentity(c);
    try {
      if (!path.container) {
        if (method === 'GET') await listContainers(c, path, identity, requests, next);
        else await next();
        return;
      }
      if (!path.object) {
        if ((method === 'PUT' || method === 'POST') && c.get('headers').has(CLIENT_VERSIONS_ENABLED)) await containers.enable(c, path, identity, next);
        else if (method === 'DELETE') await containers.delete(c, path, identity, next);
        else await containers.other(c, path, identity, next);
        return;
      }
      const info = await new ObjectController(state, path).containerInfo(c);
      const versionsCont = unquote(info.sysmeta['versions-container'] ?? '').split('/')[0]!;
      const v: Versioned = { path, identity, info, versionsCont, enabled: configTrue(info.sysmeta['versions-enabled']) };
      const versionId = getParam(swobParams(rawQueryOf(c)), 'version-id');
      if (versionId) {
        await versionIds.handle(c, v, versionId, next);
        return;
      }
      if (!versionsCont) return next();
      if (method === 'PUT') {
        if (!v.enabled) return next();
        replaceResponse(c, await objects.put(c, v));
      } else if (method === 'DELETE') {
        if (!v.enabled) return next();
        await objects.delete(c, v, next);
      } else if (method === 'POST') await objects.post(c, v, next);
      else await objects.read(c, v, next);
    } catch (err) {
      if (!(err instanceof HttpException)) throw err;
      replaceResponse(c, exceptionResponse(err, method));
    }
  };
}
