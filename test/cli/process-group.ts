/**
 * What the tests that run the real CLI in a process group of its own share: finding what is left
 * of the group, killing it, and bounding a wait.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * The processes of a group still running (zombies aside: an exited process whose parent is gone
 * waits there for init to reap it), as `pid command`.
 */
export function groupMembers(pgid: number): string[] {
  const members: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push(`${pid} ${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}`);
  }
  return members;
}

/**
 * What is left of a group once its leader exited: nothing at once, but for tsx's esbuild service
 * (a child of each process run through tsx), which exits by itself when its parent's pipe
 * closes, so is allowed a moment.
 */
export async function survivors(pgid: number): Promise<string[]> {
  const sluiceProcesses = groupMembers(pgid).filter((m) => !m.endsWith(' esbuild'));
  if (sluiceProcesses.length) return sluiceProcesses;
  const until = performance.now() + 1000;
  let left = groupMembers(pgid);
  while (left.length && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    left = groupMembers(pgid);
  }
  return left;
}

export function killGroup(pgid: number | undefined): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** `p`, or an error naming `what` once `ms` have passed. */
export function withLimit<T>(p: Promise<T>, what: string, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: still running after ${ms} ms`)), ms).unref())]);
}
