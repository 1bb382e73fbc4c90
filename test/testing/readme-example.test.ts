/** The README's startFakeKeystone example ("For tests: a fake Keystone"), as written there. */
import { expect, it } from 'vitest';
import { startFakeKeystone } from '../../src/testing/index';

it("the README's fake Keystone example runs, and its token validates", async () => {
  const keystone = await startFakeKeystone({
    projects: [{ name: 'demo' }],
    roles: [{ name: 'swiftoperator' }],
    users: [{ name: 'alice', password: 'secret', roles: { demo: ['swiftoperator'] } }],
  });
  try {
    const { token } = keystone.issue({ user: 'alice', project: 'demo' });
    const res = await fetch(`${keystone.v3Url}/auth/tokens`, { headers: { 'X-Auth-Token': token, 'X-Subject-Token': token } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: { project: { id: string }; roles: { name: string }[] } };
    expect(body.token.project.id).toBe(keystone.ids.projects.demo);
    expect(body.token.roles.map((r) => r.name)).toContain('swiftoperator');
    expect(keystone.requests['GET /v3/auth/tokens']).toBe(1);
  } finally {
    await keystone.stop();
  }
});
