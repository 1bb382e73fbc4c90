/**
 * What Swift's recon middleware reports about the devices directory: which drives are mounted
 * (swift.common.constraints.check_mount, whatever the servers' mount_check), their usage
 * (statvfs), quarantine counts (directory link counts) and the async pendings waiting there
 * (counted as swift-recon-cron counts them).
 */
import { lstatSync, opendirSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** os.listdir: the directory's entries in the order the file system gives them (readdirSync sorts). */
export function listdir(path: string): string[] {
  const dir = opendirSync(path);
  const names: string[] = [];
  try {
    for (let e = dir.readSync(); e !== null; e = dir.readSync()) names.push(e.name);
  } finally {
    dir.closeSync();
  }
  return names;
}

/** quote_plus(drive) == drive: check_drive refuses any other name. */
const PLAIN_DRIVE = /^[A-Za-z0-9_.\-~]+$/;

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * swift.common.utils.ismount_raw: a mount point is on another device than its parent or is its
 * own parent; a `.ismount` stub file inside (SAIO, containers) counts too, and is the only way a
 * symlink counts. Errors other than ENOENT are thrown, as Swift's.
 */
export function isMount(path: string): boolean {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (st.isSymbolicLink()) return isFile(join(path, '.ismount'));
  const parent = lstatSync(join(path, '..'));
  if (st.dev !== parent.dev || st.ino === parent.ino) return true;
  return isFile(join(path, '.ismount'));
}

/** check_mount's verdict: true, false (not mounted or a bad name), or the OS error's text. */
function mountState(devices: string, drive: string): true | false | string {
  if (!PLAIN_DRIVE.test(drive)) return false;
  try {
    return isMount(join(devices, drive));
  } catch (err) {
    return (err as Error).message;
  }
}

function readdirOrEmpty(path: string): string[] {
  try {
    return listdir(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The sub-directories of `devices` (Swift lists it and skips what is not a directory). */
function driveDirs(devices: string): string[] {
  return listdir(devices).filter((d) => isDir(join(devices, d)));
}

/** get_unmounted: each drive check_mount does not pass, with `mounted` false or the error text. */
export function unmounted(devices: string): { device: string; mounted: false | string }[] {
  const out: { device: string; mounted: false | string }[] = [];
  for (const device of driveDirs(devices)) {
    const state = mountState(devices, device);
    if (state !== true) out.push({ device, mounted: state });
  }
  return out;
}

export type DiskUsage =
  | { device: string; mounted: true; size: number; used: number; avail: number }
  | { device: string; mounted: false | string; size: ''; used: ''; avail: '' };

/** get_diskusage: statvfs of each mounted drive (f_bsize × f_blocks / f_bavail, as Swift computes them). */
export function diskUsage(devices: string): DiskUsage[] {
  return driveDirs(devices).map((device): DiskUsage => {
    const state = mountState(devices, device);
    if (state !== true) return { device, mounted: state, size: '', used: '', avail: '' };
    const s = statfsSync(join(devices, device));
    return { device, mounted: true, size: s.bsize * s.blocks, used: s.bsize * (s.blocks - s.bavail), avail: s.bsize * s.bavail };
  });
}

export interface QuarantineCounts {
  objects: number;
  containers: number;
  accounts: number;
  policies: Record<string, { objects: number }>;
}

/**
 * get_quarantine_count: per device, each `quarantined/<type>` directory holds st_nlink - 2
 * entries; `objects-N` counts for policy N. (Swift answers 500 for a type it does not know;
 * such a directory is skipped here.)
 */
export function quarantineCounts(devices: string): QuarantineCounts {
  const q: QuarantineCounts = { objects: 0, containers: 0, accounts: 0, policies: {} };
  for (const device of listdir(devices)) {
    const qpath = join(devices, device, 'quarantined');
    let types: string[];
    try {
      types = listdir(qpath);
    } catch {
      continue;
    }
    for (const qtype of types) {
      const n = lstatSync(join(qpath, qtype)).nlink - 2;
      if (n <= 0) continue;
      if (qtype.startsWith('objects')) {
        const policy = qtype.includes('-') ? qtype.slice(qtype.indexOf('-') + 1) : '0';
        (q.policies[policy] ??= { objects: 0 }).objects += n;
        q.objects += n;
      } else if (qtype === 'containers' || qtype === 'accounts') {
        q[qtype] += n;
      }
    }
  }
  return q;
}

/** swift-recon-cron's get_async_count: the files in every `async_pending[-N]/<suffix>/` of every device. */
export function asyncPendingCount(devices: string): number {
  let count = 0;
  for (const device of driveDirs(devices)) {
    const devPath = join(devices, device);
    for (const dir of listdir(devPath)) {
      if (dir !== 'async_pending' && !dir.startsWith('async_pending-')) continue;
      const asyncPath = join(devPath, dir);
      if (!isDir(asyncPath)) continue;
      for (const suffix of listdir(asyncPath)) {
        const suffixPath = join(asyncPath, suffix);
        // The updater removes emptied suffix directories while we count.
        if (isDir(suffixPath)) count += readdirOrEmpty(suffixPath).length;
      }
    }
  }
  return count;
}
