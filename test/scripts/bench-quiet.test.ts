/** waitForQuiet: the compare bench starts each measurement once both stacks' servers are idle. */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { waitForQuiet } from '../../scripts/bench';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A node process that spins for `busyMs` (forever when negative), then idles. */
function child(busyMs: number): number {
  const code = `const end = ${busyMs} < 0 ? Infinity : Date.now() + ${busyMs}; while (Date.now() < end) {} setInterval(() => {}, 1000);`;
  const c = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
}

it('waits while a process is busy and returns once it idles', async () => {
  const busy = child(2000);
  const idle = child(0);
  await new Promise((r) => setTimeout(r, 200));
  const waited = await waitForQuiet([busy, idle]);
  expect(waited).toBeGreaterThanOrEqual(1500);
  expect(waited).toBeLessThan(6000);
});

it('gives up (undefined) on a process that stays busy', async () => {
  const spinning = child(-1);
  await new Promise((r) => setTimeout(r, 200));
  expect(await waitForQuiet([spinning], 1500)).toBeUndefined();
});
