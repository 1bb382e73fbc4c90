import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractSteps, matchesExpected, outputLines, type Step } from './extract';

/**
 * Runs the README's curl walkthroughs ("Quick start", "Sharing an account" and "Temporary URLs") exactly as written,
 * in one bash session, against a fresh `sluice start` child process with two proxy workers, and
 * checks each command's output against the `#>` lines under it. The only change made to the
 * README's text is the proxy URL: its `export SLUICE=http://127.0.0.1:8080` line (and the URL in
 * expected output) gets the test cluster's address.
 *
 * With two workers, node:cluster's primary hands connections out round-robin, and every curl is a
 * new connection, so consecutive commands land on different workers: a token issued by one
 * worker and an ACL change made through one must be honoured by the other at once (the shared
 * cache in src/proxy/cluster-cache.ts). The revocation loop in the README checks this for six
 * requests in a row.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README_URL = 'http://127.0.0.1:8080';
const EXPORT_LINE = `export SLUICE=${README_URL}`;
/** The TempAuth walkthroughs this file runs. */
const SECTIONS = ['quickstart', 'account-acls', 'tempurl'];
/** Walkthroughs run elsewhere: `keystone` needs a real Keystone (keystone-walkthrough.test.ts). */
const OTHER_SECTIONS = ['keystone'];
const allSteps: Step[] = extractSteps(readFileSync(join(ROOT, 'README.md'), 'utf8'));
const steps: Step[] = allSteps.filter((s) => SECTIONS.includes(s.section));

interface Result {
  stdout: string;
  stderr: string;
}

let tmp: string;
let child: ChildProcess | undefined;
let childLog = '';
let url = '';
let startLine = '';
let results: Result[] = [];
let scriptError = '';
let finished = false;

function startSluice(dataDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['bin/sluice.js', 'start', '--data-dir', dataDir, '--port', '0', '--storage-ports', '0,0,0', '--workers', '2'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const onData = (chunk: Buffer) => {
      childLog += chunk.toString();
      const m = /^sluice is running: proxy (http:\/\/\S+) .*$/m.exec(childLog);
      if (m && !url) {
        url = m[1]!;
        startLine = m[0];
        resolve();
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code, signal) => {
      if (!url) reject(new Error(`sluice start exited (${signal ?? code}) before it was ready:\n${childLog}`));
    });
  });
}

function stopSluice(): Promise<void> {
  const proc = child;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    proc.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** One bash script: each command in a `{ }` group (so variables carry over), output to files. */
function buildScript(resultsDir: string): string {
  const out = ['# generated from README.md by test/readme/walkthrough.test.ts'];
  steps.forEach((step, i) => {
    const command = step.command === EXPORT_LINE ? `export SLUICE=${url}` : step.command;
    out.push(`{ ${command}\n} >"${resultsDir}/${i}.out" 2>"${resultsDir}/${i}.err" </dev/null`);
  });
  // Reached only if bash ran every step (a syntax error or a hang would stop it earlier).
  out.push(`echo done >"${resultsDir}/finished"`);
  return out.join('\n') + '\n';
}

function runBash(scriptPath: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve) => {
    // The script's own exit status is its last command's (a `grep -c` may exit 1): only a
    // timeout or a signal is an error here; each step's output is checked on its own.
    execFile('bash', ['--noprofile', '--norc', scriptPath], { cwd, env, timeout: 150_000 }, (err, _stdout, stderr) => {
      if (err && (err.killed || err.signal)) scriptError = `${err.message}\n${stderr}`;
      else if (stderr) scriptError = stderr;
      resolve();
    });
  });
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sluice-readme-'));
  await startSluice(join(tmp, 'data'));
  const work = join(tmp, 'work');
  const resultsDir = join(tmp, 'results');
  const curlHome = join(tmp, 'curl');
  for (const d of [work, resultsDir, curlHome]) mkdirSync(d);
  // A hung request fails its step instead of the whole run; the README's commands are unchanged.
  writeFileSync(join(curlHome, '.curlrc'), 'max-time = 20\n');
  const scriptPath = join(tmp, 'walkthrough.sh');
  writeFileSync(scriptPath, buildScript(resultsDir));
  // A clean environment: no HTTP proxy or shell startup files from the caller.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, CURL_HOME: curlHome, LANG: 'C.UTF-8', no_proxy: '*', NO_PROXY: '*' };
  await runBash(scriptPath, work, env);
  finished = existsSync(join(resultsDir, 'finished'));
  results = steps.map((_, i) => {
    const read = (ext: string) => {
      try {
        return readFileSync(join(resultsDir, `${i}.${ext}`), 'utf8');
      } catch {
        return `(no ${ext}: the script stopped before this command)`;
      }
    };
    return { stdout: read('out'), stderr: read('err') };
  });
}, 180_000);

afterAll(async () => {
  await stopSluice();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe('README walkthroughs against `sluice start --workers 2`', () => {
  it('has all three walkthroughs, with every URL going through $SLUICE', () => {
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
    expect(startLine).toContain('(2 workers)');
    expect(scriptError).toBe('');
    expect(finished).toBe(true);
  });

  it('served the revocation loop from both workers (their access logs name the pid)', async () => {
    // The six GETs of the revocation loop are the last tester3 account GETs refused with 403.
    const loopPids = () => {
      const entries = childLog
        .split('\n')
        .filter((l) => l.startsWith('{') && l.includes('"proxy-access"'))
        .map((l) => JSON.parse(l) as { pid: number; method: string; path: string; status: number });
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
      const result = results[i]!;
      const expected = step.expected.map((l) => l.split(README_URL).join(url));
      const actual = outputLines(result.stdout);
      const context = `README line ${step.line}\n$ ${step.command}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
      expect(result.stderr, context).toBe('');
      if (!matchesExpected(actual, expected)) expect(actual, context).toEqual(expected);
    });
  });
});
