/**
 * Segmented uploads against a real cluster: SLO from a 20 MiB stream in 1 MiB segments, DLO from
 * a file, byte-for-byte downloads (sha256), resuming an interrupted upload without re-sending
 * stored segments, and old segments cleaned up when an object is replaced.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ObjectStore, type ObjectEntry, type SubdirEntry } from '../../src/client/object/index';
import { eventually, RecordingSession, useStoreCluster } from './token-session';

const MiB = 1024 * 1024;
const fx = useStoreCluster(async ({ store }) => {
  await fx.store.container('up').create();
});

/** `size` random bytes as a stream of 64 KiB chunks; `digest()` is their sha256 once read. */
function generated(size: number): { stream: Readable; digest: () => string } {
  const h = createHash('sha256');
  const stream = Readable.from(
    (function* () {
      for (let left = size; left > 0; left -= 64 * 1024) {
        const chunk = randomBytes(Math.min(64 * 1024, left));
        h.update(chunk);
        yield chunk;
      }
    })(),
  );
  return { stream, digest: () => h.digest('hex') };
}

function fileOf(name: string, size: number): { path: string; sha256: string } {
  const path = join(fx.tmp, name);
  const data = randomBytes(size);
  writeFileSync(path, data);
  return { path, sha256: createHash('sha256').update(data).digest('hex') };
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

async function names(container: string, prefix?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of fx.store.container(container).objects({ prefix }) as AsyncIterable<ObjectEntry | SubdirEntry>) if (e.kind === 'object') out.push(e.name);
  return out;
}

describe('segmented uploads', () => {
  it('uploads a 20 MiB stream as an SLO of 1 MiB segments and downloads it byte for byte', async () => {
    const src = generated(20 * MiB);
    const progress: number[] = [];
    const res = await fx.store.upload('up', 'big/stream.bin', src.stream, { segmentSize: MiB, mtime: 1700000000, onProgress: (p) => progress.push(p.bytesDone) });
    expect(res).toMatchObject({ largeObject: 'slo', bytes: 20 * MiB, segmentsUploaded: 20, segmentsSkipped: 0 });
    // swiftclient's names for a stream (no total size in them).
    expect(res.segments[0]!.path).toBe('/up_segments/big/stream.bin/slo/1700000000.000000/1048576/00000000');
    expect(res.segments[19]!.path).toBe('/up_segments/big/stream.bin/slo/1700000000.000000/1048576/00000019');
    await eventually(async () => expect(await names('up_segments', 'big/stream.bin/')).toHaveLength(20));
    expect(progress.at(-1)).toBe(20 * MiB);
    const st = await fx.store.object('up', 'big/stream.bin').stat();
    expect(st).toMatchObject({ largeObject: 'slo', contentLength: 20 * MiB, metadata: { mtime: '1700000000.000000' } });
    const dest = join(fx.tmp, 'stream.out');
    const dl = await fx.store.download('up', 'big/stream.bin', dest);
    expect(dl).toMatchObject({ bytes: 20 * MiB, verified: false });
    expect(await sha256Of(dest)).toBe(src.digest());
  }, 60_000);

  it('names a stream\'s segments with its size when given, and refuses a stream of another size', async () => {
    const src = generated(2 * MiB + 10);
    const res = await fx.store.upload('up', 'sized.bin', src.stream, { segmentSize: MiB, size: 2 * MiB + 10, mtime: 1700000000 });
    expect(res.segments.map((s) => s.path)).toEqual([0, 1, 2].map((i) => `/up_segments/sized.bin/slo/1700000000.000000/${2 * MiB + 10}/${MiB}/0000000${i}`));
    expect(res.segments.map((s) => s.size)).toEqual([MiB, MiB, 10]);
    const short = generated(2 * MiB);
    await expect(fx.store.upload('up', 'short.bin', short.stream, { segmentSize: MiB, size: 3 * MiB })).rejects.toThrow(/2097152 bytes, not the 3145728 announced/);
    await expect(fx.store.object('up', 'short.bin').stat()).rejects.toMatchObject({ status: 404 });
  }, 60_000);

  it('uploads a file as a DLO on request, named as swiftclient names it', async () => {
    const f = fileOf('dlo.bin', 5 * MiB + 12345);
    // swiftclient's own formatting of the file's mtime.
    const mtime = execFileSync('/usr/bin/python3', ['-c', 'import os, sys; print("%f" % os.path.getmtime(sys.argv[1]))', f.path], { encoding: 'utf8' }).trim();
    const res = await fx.store.upload('up', 'dlo.bin', f.path, { segmentSize: MiB, useDlo: true, concurrency: 3 });
    expect(res).toMatchObject({ largeObject: 'dlo', segmentsUploaded: 6, bytes: 5 * MiB + 12345 });
    // A DLO's length is its listing's: wait until every segment is listed.
    const st = await eventually(async () => {
      const got = await fx.store.object('up', 'dlo.bin').stat();
      expect(got.contentLength).toBe(5 * MiB + 12345);
      return got;
    });
    expect(st.largeObject).toBe('dlo');
    expect(st.manifest).toBe(`up_segments/dlo.bin/${mtime}/${5 * MiB + 12345}/${MiB}/`);
    expect(st.contentLength).toBe(5 * MiB + 12345);
    const dest = join(fx.tmp, 'dlo.out');
    await fx.store.download('up', 'dlo.bin', dest);
    expect(await sha256Of(dest)).toBe(f.sha256);
  }, 60_000);

  it('uploads a source no larger than one segment as a plain object', async () => {
    const f = fileOf('small.bin', 1000);
    const res = await fx.store.upload('up', 'small.bin', f.path, { segmentSize: MiB });
    expect(res.largeObject).toBeUndefined();
    expect(res.segments).toEqual([]);
    const s = generated(2000);
    const res2 = await fx.store.upload('up', 'small-stream.bin', s.stream, { segmentSize: MiB });
    expect(res2.largeObject).toBeUndefined();
    expect(res2.bytes).toBe(2000);
    expect(res.bytes).toBe(1000);
    expect((await fx.store.object('up', 'small-stream.bin').stat()).contentLength).toBe(2000);
  });

  it('resumes an interrupted upload, re-sending only the missing segments', async () => {
    const f = fileOf('resume.bin', 8 * MiB + 7);
    const abort = new AbortController();
    await expect(
      fx.store.upload('up', 'resume.bin', f.path, {
        segmentSize: MiB,
        concurrency: 2,
        signal: abort.signal,
        onProgress: (p) => {
          if (p.segmentsDone >= 3) abort.abort();
        },
      }),
    ).rejects.toThrow();
    await expect(fx.store.object('up', 'resume.bin').stat()).rejects.toMatchObject({ status: 404 });
    const stored = await names('up_segments', 'resume.bin/');
    expect(stored.length).toBeGreaterThanOrEqual(3);
    expect(stored.length).toBeLessThan(9);

    const rec = new RecordingSession(fx.env.session);
    const res = await new ObjectStore(rec).upload('up', 'resume.bin', f.path, { segmentSize: MiB, concurrency: 2 });
    // A segment PUT cut by the abort may still complete on the server after the listing above.
    expect(res.segmentsSkipped).toBeGreaterThanOrEqual(stored.length);
    expect(res.segmentsSkipped).toBeLessThan(9);
    expect(res.segmentsUploaded).toBe(9 - res.segmentsSkipped);
    expect(rec.count('PUT', /\/up_segments\/resume\.bin\//)).toBe(9 - res.segmentsSkipped);
    expect(res.largeObject).toBe('slo');
    const dest = join(fx.tmp, 'resume.out');
    await fx.store.download('up', 'resume.bin', dest);
    expect(await sha256Of(dest)).toBe(f.sha256);
  }, 60_000);

  it('re-sends a stored segment whose bytes differ', async () => {
    const f = fileOf('changed.bin', 3 * MiB);
    const first = await fx.store.upload('up', 'changed.bin', f.path, { segmentSize: MiB, mtime: 1600000000 });
    expect(first.segmentsUploaded).toBe(3);
    await eventually(async () => expect(await names('up_segments', 'changed.bin/')).toHaveLength(3));
    // Same name, size and mtime (so the same segment names), other bytes in the middle segment.
    const data = readFileSync(f.path);
    randomBytes(1000).copy(data, MiB + 5000);
    writeFileSync(f.path, data);
    const rec = new RecordingSession(fx.env.session);
    const again = await new ObjectStore(rec).upload('up', 'changed.bin', f.path, { segmentSize: MiB, mtime: 1600000000 });
    expect(again.segmentsUploaded).toBe(1);
    expect(again.segmentsSkipped).toBe(2);
    expect(rec.requests.filter((r) => r.method === 'PUT' && r.url.includes('/up_segments/')).map((r) => r.url.slice(-8))).toEqual(['00000001']);
    const dest = join(fx.tmp, 'changed.out');
    await fx.store.download('up', 'changed.bin', dest);
    expect(await sha256Of(dest)).toBe(createHash('sha256').update(data).digest('hex'));
  }, 60_000);

  it('deletes the replaced object\'s segments unless leaveSegments', async () => {
    const f = fileOf('replace.bin', 3 * MiB);
    await fx.store.upload('up', 'replace.bin', f.path, { segmentSize: MiB, mtime: 1500000000 });
    await eventually(async () => expect(await names('up_segments', 'replace.bin/slo/1500000000.000000/')).toHaveLength(3));
    const res = await fx.store.upload('up', 'replace.bin', f.path, { segmentSize: 2 * MiB, mtime: 1500000001 });
    expect(res.oldSegmentsDeleted).toBe(3);
    await eventually(async () => expect(await names('up_segments', 'replace.bin/slo/1500000000.000000/')).toEqual([]));
    const kept = await fx.store.upload('up', 'replace.bin', f.path, { segmentSize: MiB, mtime: 1500000002, leaveSegments: true });
    expect(kept.oldSegmentsDeleted).toBe(0);
    await eventually(async () => expect(await names('up_segments', 'replace.bin/slo/1500000001.000000/')).toHaveLength(2));
    // Deleting the SLO takes its segments with it.
    await fx.store.object('up', 'replace.bin').delete();
    await eventually(async () => expect(await names('up_segments', 'replace.bin/slo/1500000002.000000/')).toEqual([]));
  }, 60_000);
});
