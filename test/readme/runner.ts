/**
 * What the README walkthrough tests share: a `sluice start` child process, and one bash session
 * that runs a walkthrough's commands, each in a `{ }` group (so variables and functions carry
 * over) with its output in files, in a clean environment.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Step } from './extract';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface SluiceChild {
  url: string;
  /** The `sluice is running: ...` line. */
  startLine: string;
  /** Everything it printed so far (its log). */
  log(): string;
  stop(): Promise<void>;
}

/** `node bin/sluice.js start <args>`, resolved once it says where its proxy listens. */
export function startSluice(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<SluiceChild> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['bin/sluice.js', 'start', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
    let log = '';
    let url = '';
    const stop = (): Promise<void> => {
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
      return new Promise((done) => {
        const force = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        proc.once('exit', () => {
          clearTimeout(force);
          done();
        });
        proc.kill('SIGTERM');
      });
    };
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /^sluice is running: proxy (http:\/\/\S+) .*$/m.exec(log);
      if (m && !url) {
        url = m[1]!;
        resolve({ url, startLine: m[0], log: () => log, stop });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code, signal) => {
      if (!url) reject(new Error(`sluice start ${args.join(' ')} exited (${signal ?? code}) before it was ready:\n${log}`));
    });
  });
}

export interface StepResult {
  stdout: string;
  stderr: string;
}

export interface WalkthroughRun {
  results: StepResult[];
  /** bash's own stderr, or why it was stopped (a timeout); '' when it ran cleanly. */
  scriptError: string;
  /** True when bash reached the end of the script. */
  finished: boolean;
  elapsedMs: number;
}

/**
 * Runs `steps` (each command as `command(step)` gives it) in one bash session in a temporary
 * work directory, with HOME there, a curl that gives up on a request after 20 s, no HTTP proxy,
 * and only PATH and `env` from the caller.
 */
export async function runWalkthrough(steps: readonly Step[], opts: { command: (step: Step) => string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<WalkthroughRun> {
  const tmp = mkdtempSync(join(tmpdir(), 'sluice-readme-'));
  try {
    const work = join(tmp, 'work');
    const resultsDir = join(tmp, 'results');
    const curlHome = join(tmp, 'curl');
    for (const d of [work, resultsDir, curlHome]) mkdirSync(d);
    // A hung request fails its step instead of the whole run; the README's commands are unchanged.
    writeFileSync(join(curlHome, '.curlrc'), 'max-time = 20\n');
    const lines = ['# generated from README.md by test/readme'];
    steps.forEach((step, i) => lines.push(`{ ${opts.command(step)}\n} >"${resultsDir}/${i}.out" 2>"${resultsDir}/${i}.err" </dev/null`));
    // Reached only if bash ran every step (a syntax error or a hang would stop it earlier).
    lines.push(`echo done >"${resultsDir}/finished"`);
    const scriptPath = join(tmp, 'walkthrough.sh');
    writeFileSync(scriptPath, lines.join('\n') + '\n');
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, CURL_HOME: curlHome, LANG: 'C.UTF-8', no_proxy: '*', NO_PROXY: '*', ...opts.env };
    const t0 = Date.now();
    const scriptError = await new Promise<string>((resolve) => {
      // The script's own exit status is its last command's (a `grep -c` may exit 1): only a
      // timeout or a signal is an error here; each step's output is checked on its own.
      execFile('bash', ['--noprofile', '--norc', scriptPath], { cwd: work, env, timeout: opts.timeoutMs }, (err, _stdout, stderr) => {
        if (err && (err.killed || err.signal)) resolve(`${err.message}\n${stderr}`);
        else resolve(stderr);
      });
    });
    const elapsedMs = Date.now() - t0;
    const read = (i: number, ext: string) => {
      try {
        return readFileSync(join(resultsDir, `${i}.${ext}`), 'utf8');
      } catch {
        return `(no ${ext}: the script stopped before this command)`;
      }
    };
    return {
      results: steps.map((_, i) => ({ stdout: read(i, 'out'), stderr: read(i, 'err') })),
      scriptError,
      finished: existsSync(join(resultsDir, 'finished')),
      elapsedMs,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface AccessEntry {
  pid: number;
  method: string;
  path: string;
  status: number;
  user_agent?: string;
  start_time: number;
}

/** The proxy's access-log entries in a `sluice start` log (JSON lines the workers write, each with its pid). */
export function accessEntries(log: string): AccessEntry[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"proxy-access"'))
    .map((l) => JSON.parse(l) as AccessEntry);
}
