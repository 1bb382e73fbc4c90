// The proxy's default log (src/proxy/logger.ts): buffered, yet every line reaches a file or a
// pipe, on exit, on flush, and within the periodic flush on a quiet process.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = 'test/proxy/fixtures/log-child.ts';
const dir = mkdtempSync(join(tmpdir(), 'sluice-log-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function linesOf(text: string): { line: number; msg: string }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { line: number; msg: string });
}

/** Runs the child with stdout into a file; resolves once its stderr says `until` (or it exits). */
function runToFile(args: string[], until?: string) {
  const file = join(dir, `out-${Math.random().toString(16).slice(2)}.log`);
  const fd = openSync(file, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: ROOT, stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  let err = '';
  const ready = new Promise<void>((resolve) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (until && err.includes(until)) resolve();
    });
    child.once('exit', () => resolve());
  });
  return { file, child, ready, read: () => readFileSync(file, 'utf8') };
}

describe('the default proxy log', () => {
  it('writes every buffered line to a file when the process exits at once', async () => {
    const run = runToFile(['exit', '500']);
    const code = await new Promise((r) => run.child.once('exit', r));
    expect(code).toBe(0);
    const lines = linesOf(run.read());
    expect(lines.map((l) => l.line)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('writes the lines of a quiet process within the periodic flush, without exiting', async () => {
    const run = runToFile(['wait', '2'], 'logged');
    await run.ready;
    try {
      // Two short lines stay under the buffer size: only the timer writes them.
      let lines: { line: number }[] = [];
      for (let i = 0; i < 40 && lines.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
        lines = linesOf(run.read());
      }
      expect(lines.map((l) => l.line)).toEqual([0, 1]);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('flush() resolves once the lines are written', async () => {
    const run = runToFile(['flush', '3'], 'flushed');
    await run.ready;
    try {
      expect(linesOf(run.read()).map((l) => l.line)).toEqual([0, 1, 2]);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('writes every line into a pipe too', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'exit', '2000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((r) => child.once('close', r));
    expect(code).toBe(0);
    expect(linesOf(out).map((l) => l.line)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });
});
