/**
 * A simulated full filesystem for object-server tests (no root, no tmpfs): while `full` is on,
 * every write of data under `root` fails with ENOSPC, as on a disk with no free blocks left.
 * Creating an empty file and unlinking still work (inodes are left), as on a real full disk;
 * creating a directory that does not exist yet fails too (it needs a block). The patch is on
 * node:fs's synchronous calls (the object server's diskfile writes in line, as Swift's does),
 * re-exported to ES modules with syncBuiltinESMExports, and on its shared promises object and
 * the FileHandle prototype, so the code under test runs unchanged; only files opened under
 * `root` are affected.
 */
import fs, { promises as fsp } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';

function enospc(syscall: string, path?: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ENOSPC: no space left on device, ${syscall}${path ? ` '${path}'` : ''}`);
  err.code = 'ENOSPC';
  err.errno = -28;
  err.syscall = syscall;
  if (path) err.path = path;
  return err;
}

export interface FullDisk {
  /** While true, data writes under root fail. */
  full: boolean;
  /** How many writes were refused. */
  refused: number;
  restore(): void;
}

type Writeish = (this: FileHandle, ...args: unknown[]) => Promise<unknown>;

export async function simulateFullDisk(root: string): Promise<FullDisk> {
  const base = resolve(root) + sep;
  const under = (p: unknown) => typeof p === 'string' && (resolve(p) + sep).startsWith(base);
  const fds = new Set<number>();
  const state: FullDisk = { full: false, refused: 0, restore: () => undefined };

  // FileHandle is not exported: take its prototype from a handle.
  const probePath = join(tmpdir(), `sluice-fulldisk-probe-${process.pid}`);
  const probe = await fsp.open(probePath, 'w');
  const proto = Object.getPrototypeOf(probe) as Record<string, Writeish>;
  await probe.close();
  await fsp.unlink(probePath);

  const origOpen = fsp.open;
  const origMkdir = fsp.mkdir;
  const origWriteFile = fsp.writeFile;
  const orig: Record<string, Writeish> = { write: proto.write!, writeFile: proto.writeFile!, writev: proto.writev!, appendFile: proto.appendFile! };

  fsp.open = async function (this: unknown, ...args: Parameters<typeof fsp.open>) {
    const fh = await origOpen.apply(fsp, args);
    if (under(args[0])) {
      fds.add(fh.fd);
      const close = fh.close.bind(fh);
      fh.close = async () => {
        fds.delete(fh.fd);
        return close();
      };
    }
    return fh;
  } as typeof fsp.open;
  fsp.mkdir = async function (...args: Parameters<typeof fsp.mkdir>) {
    if (state.full && under(args[0])) {
      // mkdir -p of directories that already exist needs no space.
      const exists = await fsp.stat(args[0]).then((s) => s.isDirectory(), () => false);
      if (!exists) {
        state.refused++;
        throw enospc('mkdir', String(args[0]));
      }
    }
    return origMkdir.apply(fsp, args);
  } as typeof fsp.mkdir;
  fsp.writeFile = async function (...args: Parameters<typeof fsp.writeFile>) {
    if (state.full && under(args[0])) {
      state.refused++;
      throw enospc('write', String(args[0]));
    }
    return origWriteFile.apply(fsp, args);
  } as typeof fsp.writeFile;
  const sync = { openSync: fs.openSync, closeSync: fs.closeSync, writeSync: fs.writeSync, mkdirSync: fs.mkdirSync };
  fs.openSync = function (...args: Parameters<typeof fs.openSync>) {
    const fd = sync.openSync.apply(fs, args);
    if (under(args[0])) fds.add(fd);
    return fd;
  } as typeof fs.openSync;
  fs.closeSync = function (fd: number) {
    fds.delete(fd);
    return sync.closeSync.call(fs, fd);
  } as typeof fs.closeSync;
  fs.writeSync = function (fd: number, ...rest: unknown[]) {
    if (state.full && fds.has(fd)) {
      state.refused++;
      throw enospc('write');
    }
    return (sync.writeSync as (...a: unknown[]) => number).call(fs, fd, ...rest);
  } as typeof fs.writeSync;
  fs.mkdirSync = function (...args: Parameters<typeof fs.mkdirSync>) {
    // mkdir -p of directories that already exist needs no space.
    if (state.full && under(args[0]) && !fs.existsSync(args[0])) {
      state.refused++;
      throw enospc('mkdir', String(args[0]));
    }
    return sync.mkdirSync.apply(fs, args);
  } as typeof fs.mkdirSync;
  syncBuiltinESMExports();
  for (const name of Object.keys(orig)) {
    proto[name] = async function (this: FileHandle, ...args: unknown[]) {
      if (state.full && fds.has(this.fd)) {
        state.refused++;
        throw enospc('write');
      }
      return orig[name]!.apply(this, args);
    };
  }
  state.restore = () => {
    fsp.open = origOpen;
    fsp.mkdir = origMkdir;
    fsp.writeFile = origWriteFile;
    for (const [name, fn] of Object.entries(orig)) proto[name] = fn;
    Object.assign(fs, sync);
    syncBuiltinESMExports();
  };
  return state;
}
