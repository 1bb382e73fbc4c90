/**
 * `npm run interop:client`: sluice/client against Debian's Swift 2.30 and against sluice, the same
 * calls on both (the clusters of the differential harness: the same SAIO pipeline and TempAuth
 * users, scripts/lib/differential-clusters.ts), and the results compared step by step. Each step
 * prints PASS (same result from both), or FAIL with both results; exits 1 on any FAIL or error.
 */
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { accountAcl, containerAcl, ObjectStore, Session, TempAuth } from '../src/client';
import { startClusters, type Side } from './lib/differential-clusters';
import { SeededRandom } from './lib/seeded-random';

/** Deterministic bytes (the same on both sides, so SLO ETags match too). */
const bytes = (n: number, seed: number): Buffer => new SeededRandom('client-interop', seed).bytes(n);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function sinkHash(): { sink: Writable; digest: () => string; size: () => number } {
  const h = createHash('sha256');
  let n = 0;
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      h.update(chunk);
      n += chunk.length;
      cb();
    },
  });
  return { sink, digest: () => h.digest('hex'), size: () => n };
}

type Results = Map<string, unknown>;

async function scenario(side: Side): Promise<Results> {
  const out: Results = new Map();
  const base = `http://127.0.0.1:${side.port}`;
  const session = new Session({ auth: new TempAuth({ authUrl: `${base}/auth/v1.0`, user: 'test:tester', key: 'testing' }) });
  const other = new Session({ auth: new TempAuth({ authUrl: `${base}/auth/v1.0`, user: 'test:tester3', key: 'testing3' }) });
  const store = new ObjectStore(session);
  const asOther = new ObjectStore(other);
  const c = 'client-interop';
  const step = async (name: string, f: () => Promise<unknown>) => {
    try {
      out.set(name, await f());
    } catch (err) {
      out.set(name, { error: (err as Error).constructor.name, status: (err as { status?: number }).status });
    }
  };
  try {
    await step('container create', () => store.container(c).create({ Project: 'interop' }));
    await step('object puts', async () => {
      const r = [];
      for (const name of ['a/1', 'a/2', 'b/1', 'c.txt', 'd.json', 'é 日本']) r.push((await store.object(c, name).put(bytes(100 + name.length, name.length), { meta: { Kind: name } })).etag);
      return r;
    });
    await step('listing, 2 per page', async () => {
      const names = [];
      for await (const e of store.container(c).objects({ limit: 2 })) names.push(e.kind === 'object' ? [e.name, e.bytes, e.hash, e.contentType] : e.subdir);
      return names;
    });
    await step('listing with delimiter and prefix', async () => {
      const names = [];
      for await (const e of store.container(c).objects({ delimiter: '/' })) names.push(e.kind === 'object' ? e.name : `subdir:${e.subdir}`);
      for await (const e of store.container(c).objects({ prefix: 'a/', marker: 'a/1' })) names.push(e.kind === 'object' ? e.name : e.subdir);
      return names;
    });
    await step('container stat', async () => {
      const s = await store.container(c).stat();
      return { objects: s.objectCount, bytes: s.bytesUsed, meta: s.metadata };
    });
    await step('object stat', async () => {
      const s = await store.object(c, 'c.txt').stat();
      return { length: s.contentLength, type: s.contentType, etag: s.etag, meta: s.metadata, largeObject: s.largeObject ?? null };
    });
    await step('object post, then stat', async () => {
      await store.object(c, 'c.txt').post({ Color: 'blue' });
      return (await store.object(c, 'c.txt').stat()).metadata;
    });
    await step('ranged get', async () => {
      const g = await store.object(c, 'd.json').get({ range: { start: 2, end: 9 } });
      const chunks: Buffer[] = [];
      for await (const ch of g.body) chunks.push(ch as Buffer);
      return { status: g.status, body: Buffer.concat(chunks).toString('hex'), verifying: g.verifying };
    });
    await step('copy with fresh metadata', async () => {
      await store.object(c, 'c.txt').copy({ container: c, object: 'c2.txt' }, { freshMetadata: true, meta: { Fresh: 'yes' } });
      return (await store.object(c, 'c2.txt').stat()).metadata;
    });
    const big = bytes(3 * 1024 * 1024 + 12345, 7);
    const slo = { segmentSize: 1024 * 1024, size: big.length, mtime: 1_700_000_000, concurrency: 2 };
    await step('SLO upload from a stream', async () => {
      const r = await store.upload(c, 'big.slo', Readable.from([big]), slo);
      return { largeObject: r.largeObject, bytes: r.bytes, etag: r.etag, segments: r.segments.map((s) => [s.path, s.etag, s.size]) };
    });
    await step('SLO upload again: every segment skipped', async () => {
      const r = await store.upload(c, 'big.slo', Readable.from([big]), slo);
      return { uploaded: r.segmentsUploaded, skipped: r.segmentsSkipped };
    });
    await step('SLO download and stat', async () => {
      const h = sinkHash();
      const d = await store.download(c, 'big.slo', h.sink);
      const s = await store.object(c, 'big.slo').stat();
      return { bytes: d.bytes, sha: h.digest() === sha256(big), largeObject: s.largeObject, length: s.contentLength, etag: s.etag };
    });
    await step('DLO upload, download', async () => {
      const r = await store.upload(c, 'big.dlo', Readable.from([big]), { ...slo, useDlo: true });
      const h = sinkHash();
      await store.download(c, 'big.dlo', h.sink);
      const s = await store.object(c, 'big.dlo').stat();
      return { largeObject: r.largeObject, sha: h.digest() === sha256(big), manifest: s.manifest, statKind: s.largeObject };
    });
    await step('bulk delete', async () => {
      const r = await store.bulkDelete([`${c}/a/1`, `${c}/a/2`, `${c}/missing`]);
      return { deleted: r.deleted, notFound: r.notFound, errors: r.errors };
    });
    await step('account ACL grant lets test:tester3 list, revoke stops it', async () => {
      const acl = accountAcl(store.account);
      const granted = await acl.grant('read-only', 'test:tester3');
      const names = [];
      for await (const e of asOther.container(c).objects({ prefix: 'b/' })) names.push(e.kind === 'object' ? e.name : e.subdir);
      const revoked = await acl.revoke('test:tester3');
      let after: unknown;
      try {
        await asOther.container(c).stat();
        after = 'allowed';
      } catch (err) {
        after = (err as { status?: number }).status;
      }
      return { granted, names, revoked, after };
    });
    await step('container read ACL from the builder', async () => {
      await store.container(c).post({}, { acl: containerAcl().read({ users: ['test:tester3'], referrers: ['.example.com'], listings: true }) });
      return (await store.container(c).stat()).read;
    });
    await step('temp URL with the account key', async () => {
      await store.account.post({ 'Temp-URL-Key': 'interop-key' });
      const url = await store.tempUrl({ method: 'GET', container: c, object: 'c.txt', seconds: 600, digest: 'sha256' });
      const res = await fetch(new URL(url, base));
      return { status: res.status, sha: sha256(Buffer.from(await res.arrayBuffer())) };
    });
    await step('delete an SLO with its segments', async () => {
      await store.object(c, 'big.slo').delete();
      const left = [];
      for await (const e of store.container(`${c}_segments`).objects({ prefix: 'big.slo/' })) left.push(e);
      return left.length;
    });
  } finally {
    await session.close();
    await other.close();
  }
  return out;
}

const clusters = await startClusters();
let failed = 0;
try {
  console.error(`client-interop: clusters up (${clusters.readiness})`);
  const swift = await scenario(clusters.swift);
  const sluice = await scenario(clusters.sluice);
  for (const [name, got] of swift) {
    const mine = sluice.get(name);
    const same = JSON.stringify(mine) === JSON.stringify(got);
    if (!same) failed++;
    const hasError = (v: unknown) => typeof v === 'object' && v !== null && 'error' in v;
    if (same && hasError(got)) failed++;
    console.log(`${same && !hasError(got) ? 'PASS' : 'FAIL'} ${name}${same && !hasError(got) ? '' : `\n  swift:  ${JSON.stringify(got)}\n  sluice: ${JSON.stringify(mine)}`}`);
  }
  console.log(`client-interop: ${swift.size - failed} of ${swift.size} steps gave the same results from Swift and sluice`);
} finally {
  await clusters.stop();
}
process.exit(failed ? 1 : 0);
