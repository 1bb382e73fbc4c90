/**
 * The User-Agent header: the application's part first, then `sluice-client/<version>`, as
 * keystoneauth puts `app_name/app_version` before its own `keystoneauth1/<version>`.
 */
import { createRequire } from 'node:module';

/** The package's own version: resolved through its name, so it is found from src/ and from dist/ alike. */
function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('sluice/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export const CLIENT_AGENT = `sluice-client/${packageVersion()}`;

/** The application's part: a ready string (`myapp/1.2 extra/3`) or keystoneauth's app name and version. */
export type UserAgentOption = string | { appName: string; appVersion?: string };

export function userAgent(app: UserAgentOption | undefined): string {
  if (app === undefined) return CLIENT_AGENT;
  const own = typeof app === 'string' ? app.trim() : app.appVersion ? `${app.appName}/${app.appVersion}` : app.appName;
  return own ? `${own} ${CLIENT_AGENT}` : CLIENT_AGENT;
}
