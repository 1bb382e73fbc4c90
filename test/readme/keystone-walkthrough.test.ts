import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { findKeystone } from '../keystone/fixtures';
import { extractSteps, matchesExpected, outputLines, type Step } from './extract';
import { accessEntries, ROOT, runWalkthrough, startSluice, type AccessEntry, type SluiceChild, type WalkthroughRun } from './runner';

/**
 * Runs the README's Keystone walkthrough (the `readme-test: keystone` block under "Trying it with
 * a real Keystone") exactly as written, in one bash session, against a fresh
 * `sluice start --auth keystone --workers 2` child and the real Keystone of
 * scripts/keystone-dev.sh, with the real `openstack` and `swift` CLIs, and checks each command's
 * output against the `#>` lines under it. The only changes made to the README's text are the two
 * URLs: `http://127.0.0.1:8080` becomes the test cluster's proxy and `http://127.0.0.1:5000` the
 * Keystone's base URL, in commands and in expected output.
 *
 * Skipped, with the reason, when no Keystone is reachable or a CLI the block uses is missing;
 * under CI both are failures instead (findKeystone throws, and so does this file).
 */

const SECTION = 'keystone';
const README_PROXY = 'http://127.0.0.1:8080';
const README_KEYSTONE = 'http://127.0.0.1:5000';
const EXPORT_LINE = `export SLUICE=${README_PROXY}`;
/** Either README URL (and not a longer port that starts with the same digits). */
const README_URLS = /http:\/\/127\.0\.0\.1:(8080|5000)(?!\d)/g;
const steps: Step[] = extractSteps(readFileSync(join(ROOT, 'README.md'), 'utf8')).filter((s) => s.section === SECTION);

/** The commands the block runs that are not bash builtins. */
const TOOLS = ['openstack', 'swift', 'curl', 'python3'];

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const ks = await findKeystone();
const missing = TOOLS.filter((t) => !onPath(t));
if (missing.length && process.env.CI) {
  // .ci/run installs python3-swiftclient (swift); scripts/keystone-dev.sh installs python3-openstackclient.
  throw new Error(`the README's Keystone walkthrough is required in CI, but these are not on PATH: ${missing.join(', ')}`);
}
const skipReason = !ks.ok
  ? ks.reason
  : missing.length
    ? `not on PATH: ${missing.join(', ')} (python3-swiftclient has swift; python3-openstackclient, which scripts/keystone-dev.sh installs, has openstack)`
    : undefined;

let tmp: string;
let sluice: SluiceChild | undefined;
let proxyUrl = '';
let keystoneBase = '';
let run: WalkthroughRun;

/** A README URL in `text` as this run's: the proxy's or the Keystone's. */
function localise(text: string): string {
  return text.replace(README_URLS, (_, port: string) => (port === '8080' ? proxyUrl : keystoneBase));
}

if (skipReason || !ks.ok) {
  describe('README Keystone walkthrough against `sluice start --auth keystone --workers 2`', () => {
    it.skip(`skipped: ${skipReason ?? ''}`, () => undefined);
  });
} else {
  describe('README Keystone walkthrough against `sluice start --auth keystone --workers 2`', () => {
    const f = ks.fixtures;
    const account = `AUTH_${f.users['operator-a']!.project_id}`;

    beforeAll(async () => {
      // KEYSTONE_URL is the /v3 URL (the README's --keystone-url and OS_AUTH_URL); its base is what
      // the 401's `Keystone uri=` names.
      if (!/\/v3\/?$/.test(ks.url)) throw new Error(`KEYSTONE_URL ${ks.url} is not a /v3 URL`);
      keystoneBase = ks.url.replace(/\/v3\/?$/, '');
      tmp = mkdtempSync(join(tmpdir(), 'sluice-readme-keystone-'));
      // The service user's password as the README gives it: in the environment, never in argv.
      sluice = await startSluice(
        ['--auth', 'keystone', '--keystone-url', ks.url, '--data-dir', join(tmp, 'data'), '--port', '0', '--storage-ports', '0,0,0', '--workers', '2'],
        { ...process.env, SLUICE_KEYSTONE_PASSWORD: f.authtoken.password },
      );
      proxyUrl = sluice.url;
      // What the README's reader has after `eval "$(scripts/keystone-dev.sh env)"`:
      // KEYSTONE_FIXTURES (no OS_* or HTTP proxy from the caller, no clouds.yaml in HOME).
      run = await runWalkthrough(steps, { command: (step) => localise(step.command), env: { KEYSTONE_FIXTURES: process.env.KEYSTONE_FIXTURES }, timeoutMs: 90_000 });
    }, 150_000);

    afterAll(async () => {
      await sluice?.stop();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }, 30_000);

    it('has the walkthrough, with only the two README URLs in it, the proxy through $SLUICE', () => {
      expect(steps.length).toBeGreaterThan(15);
      expect(steps[0]!.command).toBe(EXPORT_LINE);
      expect(steps.filter((s) => s.command.includes(README_PROXY))).toEqual([steps[0]]);
      // Every address is one of the two that get substituted, so the block talks to nothing else.
      const texts = steps.flatMap((s) => [s.command, ...s.expected]);
      expect(texts.filter((t) => t.replace(README_URLS, '').includes('127.0.0.1') || /localhost|https?:\/\/(?!127\.0\.0\.1)/.test(t))).toEqual([]);
      expect(steps.some((s) => s.command.includes(`OS_AUTH_URL=${README_KEYSTONE}/v3`))).toBe(true);
      expect(steps.some((s) => s.expected.some((l) => l.includes(`Keystone uri="${README_KEYSTONE}"`)))).toBe(true);
      expect(steps.some((s) => s.command.startsWith('openstack ') || s.command.includes('$(openstack '))).toBe(true);
      expect(steps.some((s) => /(^|&& )swift /.test(s.command))).toBe(true);
    });

    it('started two proxy workers with Keystone and ran the script to the end', () => {
      expect(sluice!.startLine).toContain('(2 workers)');
      expect(sluice!.log()).toContain(`Keystone: ${keystoneBase} (authtoken validates tokens as sluice, project service, domain default)`);
      expect(sluice!.log()).not.toContain(f.authtoken.password);
      expect(run.scriptError).toBe('');
      expect(run.finished).toBe(true);
      // Each `openstack token issue` is a Python start-up (≈1–2 s); the block should stay quick.
      expect(run.elapsedMs).toBeLessThan(60_000);
    });

    it('served the revocation loop from both workers (their access logs name the pid)', async () => {
      // The loop: member-b's GETs of proj-a's docs container after operator-a's last ACL POST
      // (the revoking one), each refused with 403.
      const docs = `/v1/${account}/docs`;
      const loop = () => {
        const entries = accessEntries(sluice!.log());
        const revokes = entries.filter((e) => e.method === 'POST' && e.path === `/v1/${account}` && e.status === 204);
        const revoke = revokes.reduce<AccessEntry | undefined>((last, e) => (!last || e.start_time > last.start_time ? e : last), undefined);
        if (!revoke) return [];
        return entries.filter((e) => e.method === 'GET' && e.path === docs && e.start_time >= revoke.start_time);
      };
      // Access log lines are buffered by each worker (up to a second), so they may trail the last curl.
      let got = loop();
      for (let i = 0; i < 50 && (got.length < 4 || new Set(got.map((e) => e.pid)).size < 2); i++) {
        await new Promise((r) => setTimeout(r, 100));
        got = loop();
      }
      expect(got.map((e) => [e.status, e.user_agent?.split('/')[0]])).toEqual(Array(4).fill([403, 'curl']));
      expect(new Set(got.map((e) => e.pid)).size).toBe(2);
    });

    steps.forEach((step, i) => {
      const title = `README line ${step.line}: ${step.command.replace(/\s+/g, ' ').slice(0, 110)}`;
      it(title, () => {
        const result = run.results[i]!;
        const expected = step.expected.map(localise);
        const actual = outputLines(result.stdout);
        const context = `README line ${step.line}\n$ ${localise(step.command)}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
        // The openstack and swift CLIs print nothing on stderr here (no deprecation or TLS
        // warnings with Debian's packages over plain http), so stderr must stay empty.
        expect(result.stderr, context).toBe('');
        if (!matchesExpected(actual, expected)) expect(actual, context).toEqual(expected);
      });
    });
  });
}
