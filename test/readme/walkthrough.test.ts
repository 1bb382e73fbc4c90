import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractSteps, matchesExpected, outputLines, type Step } from './extract';
import { accessEntries, ROOT, runWalkthrough, startSluice, type SluiceChild, type WalkthroughRun } from './runner';

/**
 * Runs the README's walkthroughs ("Quick start", "Sharing an account", "Why was I denied?",
 * "Temporary URLs" and "Policies") exactly as written,
 * in one bash session, against a fresh `sluice start` child process with two proxy workers, and
 * checks each command's output against the `#>` lines under it. The only changes made to the
 * README's text: its `export SLUICE=http://127.0.0.1:8080` line (and the URL in expected output)
 * gets the test cluster's address, and `npx sluice` runs this checkout's bin/sluice.js.
 *
 * With two workers, node:cluster's primary hands connections out round-robin, and every curl is a
 * new connection, so consecutive commands land on different workers: a token issued by one
 * worker and an ACL change made through one must be honoured by the other at once (the shared
 * cache in src/proxy/cluster-cache.ts). The revocation loop in the README checks this for six
 * requests in a row.
 */

const README_URL = 'http://127.0.0.1:8080';
/** `npx sluice` in the README is this checkout's command line (the walkthrough runs in a temporary directory). */
const localCli = (command: string): string => command.replaceAll('npx sluice ', `node ${JSON.stringify(join(ROOT, 'bin', 'sluice.js'))} `);
const EXPORT_LINE = `export SLUICE=${README_URL}`;
/** The TempAuth walkthroughs this file runs. */
const SECTIONS = ['quickstart', 'account-acls', 'explain', 'tempurl', 'large-objects', 'policies', 'client-cli'];
/** Walkthroughs run elsewhere: `keystone` needs a real Keystone (keystone-walkthrough.test.ts). */
const OTHER_SECTIONS = ['keystone'];
const allSteps: Step[] = extractSteps(readFileSync(join(ROOT, 'README.md'), 'utf8'));
const steps: Step[] = allSteps.filter((s) => SECTIONS.includes(s.section));

let tmp: string;
let sluice: SluiceChild | undefined;
let url = '';
let run: WalkthroughRun;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sluice-readme-'));
  sluice = await startSluice(['--data-dir', join(tmp, 'data'), '--port', '0', '--storage-ports', '0,0,0', '--workers', '2']);
  url = sluice.url;
  run = await runWalkthrough(steps, { command: (step) => (step.command === EXPORT_LINE ? `export SLUICE=${url}` : localCli(step.command)), timeoutMs: 150_000 });
}, 180_000);

afterAll(async () => {
  await sluice?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe('README walkthroughs against `sluice start --workers 2`', () => {
  it('has all five walkthroughs, with every URL going through $SLUICE', () => {
    const sections = new Set(steps.map((s) => s.section));
    expect([...sections]).toEqual(SECTIONS);
    // Every marked block in the README is run by this file or another one.
    expect([...new Set(allSteps.map((s) => s.section))].sort()).toEqual([...SECTIONS, ...OTHER_SECTIONS].sort());
    expect(steps.filter((s) => s.command === EXPORT_LINE)).toHaveLength(1);
    expect(steps[0]!.command).toBe(EXPORT_LINE);
    expect(steps.filter((s) => s.command !== EXPORT_LINE && s.command.includes('127.0.0.1'))).toEqual([]);
    expect(steps.length).toBeGreaterThan(50);
  });

  it('started two proxy workers and ran the script to the end', () => {
    expect(sluice!.startLine).toContain('(2 workers)');
    expect(run.scriptError).toBe('');
    expect(run.finished).toBe(true);
  });

  it('served the revocation loop from both workers (their access logs name the pid)', async () => {
    // The six GETs of the revocation loop are the last tester3 account GETs refused with 403.
    const loopPids = () => {
      const entries = accessEntries(sluice!.log());
      return entries.filter((e) => e.method === 'GET' && e.path === '/v1/AUTH_test' && e.status === 403).slice(-6);
    };
    // Access log lines are written by the workers themselves, buffered (up to a second), so they
    // may trail the last curl, each worker's on its own schedule.
    let loop = loopPids();
    for (let i = 0; i < 50 && (loop.length < 6 || new Set(loop.map((e) => e.pid)).size < 2); i++) {
      await new Promise((r) => setTimeout(r, 100));
      loop = loopPids();
    }
    expect(loop).toHaveLength(6);
    expect(new Set(loop.map((e) => e.pid)).size).toBe(2);
  });

  steps.forEach((step, i) => {
    const title = `${step.section}, README line ${step.line}: ${step.command.replace(/\s+/g, ' ').slice(0, 110)}`;
    it(title, () => {
      const result = run.results[i]!;
      const expected = step.expected.map((l) => l.split(README_URL).join(url));
      const actual = outputLines(result.stdout);
      const context = `README line ${step.line}\n$ ${step.command}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
      expect(result.stderr, context).toBe('');
      if (!matchesExpected(actual, expected)) expect(actual, context).toEqual(expected);
    });
  });
});
