/**
 * The Keystone that `npm run bench -- --auth keystone` measures sluice against: the real one of
 * scripts/keystone-dev.sh when KEYSTONE_URL and KEYSTONE_FIXTURES are set (its service user
 * `sluice` and the account owner `operator-a`, swiftoperator on proj-a), otherwise a fake one
 * (startFakeKeystone from src/testing) in this process with the same shape. Either way the bench
 * gets the service credentials for authtoken and one project-scoped token of the account's owner,
 * issued by Keystone itself (POST /v3/auth/tokens), which the measured requests reuse: authtoken
 * validates it once and then answers from its cache, the case the rows compare with TempAuth.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DevKeystoneAuth } from '../../src/cluster/dev-cluster';
import { startFakeKeystone } from '../../src/testing/index';

export interface BenchKeystone {
  source: 'real' | 'fake';
  /** Keystone's v3 URL. */
  url: string;
  /** What authtoken validates tokens as. */
  service: DevKeystoneAuth;
  /** The account owner's token and its project (the account is AUTH_<projectId>). */
  ownerToken: string;
  projectId: string;
  /** Token validations Keystone has answered so far (GET/HEAD /v3/auth/tokens); null when unknown (the real one). */
  validations(): number | null;
  stop(): Promise<void>;
}

interface Fixtures {
  keystone: { v3_url: string };
  users: Record<string, { id: string; password: string; project_id: string }>;
  authtoken: { username: string; password: string; project_name: string; user_domain_id: string };
}

/** A project-scoped token by password, from Keystone's API (what any client does). */
async function passwordToken(v3Url: string, userId: string, password: string, projectId: string): Promise<string> {
  const res = await fetch(`${v3Url}/auth/tokens?nocatalog`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { id: userId, password } } }, scope: { project: { id: projectId } } } }),
  });
  await res.arrayBuffer();
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) throw new Error(`Keystone at ${v3Url} did not issue a token for the bench's account owner: ${res.status}`);
  return token;
}

async function realKeystone(url: string, fixturesPath: string): Promise<BenchKeystone> {
  const f = JSON.parse(readFileSync(fixturesPath, 'utf8')) as Fixtures;
  const owner = f.users['operator-a'];
  if (!owner) throw new Error(`${fixturesPath} has no operator-a`);
  const a = f.authtoken;
  return {
    source: 'real',
    url,
    service: { url, username: a.username, password: a.password, projectName: a.project_name, domainId: a.user_domain_id },
    ownerToken: await passwordToken(url, owner.id, owner.password, owner.project_id),
    projectId: owner.project_id,
    validations: () => null,
    stop: async () => undefined,
  };
}

async function fakeKeystone(): Promise<BenchKeystone> {
  const servicePassword = randomBytes(18).toString('base64url');
  const ownerPassword = randomBytes(18).toString('base64url');
  // As scripts/keystone/keystone.sh's fixtures: the service user with admin and service on
  // `service`, the owner with swiftoperator on its project.
  const ks = await startFakeKeystone({
    projects: [{ name: 'admin' }, { name: 'service' }, { name: 'bench' }],
    roles: [{ name: 'swiftoperator' }, { name: 'service' }],
    users: [
      { name: 'sluice', password: servicePassword, defaultProject: 'service', roles: { service: ['admin', 'service'] } },
      { name: 'bench-owner', password: ownerPassword, defaultProject: 'bench', roles: { bench: ['swiftoperator'] } },
    ],
    adminProject: { name: 'admin', domain: 'Default' },
  });
  try {
    const projectId = ks.ids.projects.bench!;
    return {
      source: 'fake',
      url: ks.v3Url,
      service: { url: ks.v3Url, username: 'sluice', password: servicePassword, projectName: 'service', domainId: 'default' },
      ownerToken: await passwordToken(ks.v3Url, ks.ids.users['bench-owner']!, ownerPassword, projectId),
      projectId,
      validations: () => ks.requests['GET /v3/auth/tokens'] + ks.requests['HEAD /v3/auth/tokens'],
      stop: () => ks.stop(),
    };
  } catch (err) {
    await ks.stop();
    throw err;
  }
}

/** The real Keystone named by the environment, else a fake one. */
export function benchKeystone(env: NodeJS.ProcessEnv = process.env): Promise<BenchKeystone> {
  return env.KEYSTONE_URL && env.KEYSTONE_FIXTURES ? realKeystone(env.KEYSTONE_URL, env.KEYSTONE_FIXTURES) : fakeKeystone();
}
