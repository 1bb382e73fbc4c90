import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { DEV_PROXY_CONF } from '../../src/cluster/dev-cluster';
import { call } from './helpers';

describe('/info', () => {
  let cl: TestCluster;
  let locked: TestCluster;
  let tuned: TestCluster;
  beforeAll(async () => {
    cl = await startCluster();
    locked = await startCluster({
      proxyConfig: DEV_PROXY_CONF.replace('[app:proxy-server]', '[app:proxy-server]\nadmin_key = s3cret\ndisallowed_sections = tempauth, swift.max_file_size'),
    });
    tuned = await startCluster({
      proxyConfig: DEV_PROXY_CONF.replace('[filter:tempurl]\nuse = egg:swift#tempurl\n', '[filter:tempurl]\nuse = egg:swift#tempurl\nmethods = GET HEAD\nallowed_digests = sha256 sha512\n')
        .replace('[filter:bulk]\nuse = egg:swift#bulk\n', '[filter:bulk]\nuse = egg:swift#bulk\nmax_deletes_per_request = 500\nmax_failed_deletes = 7\nmax_containers_per_extraction = 20\n')
        .replace('[filter:symlink]\nuse = egg:swift#symlink\n', '[filter:symlink]\nuse = egg:swift#symlink\nsymloop_max = 5\n')
        .replace('allow_versioned_writes = true', 'allow_versioned_writes = false'),
    });
  });
  afterAll(async () => {
    await cl?.stop();
    await locked?.stop();
    await tuned?.stop();
  });

  it('is written as Swift\'s json.dumps writes it (default separators, ensure_ascii)', async () => {
    const res = await call(cl.url, 'GET', '/info');
    expect(res.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(res.text).toMatch(/^\{"swift": \{"version": "2\.30\.1", "strict_cors_mode": true, "policies": \[\{"name": "Policy-0", /);
    expect(res.text).not.toMatch(/[^\x20-\x7e]/);
  });

  it('lists every middleware of the pipeline with its settings, as Swift registers them', async () => {
    const info = JSON.parse((await call(cl.url, 'GET', '/info')).text);
    expect(Object.keys(info).sort()).toEqual(
      ['account_quotas', 'bulk_delete', 'bulk_upload', 'container_quotas', 'slo', 'swift', 'symlink', 'tempauth', 'tempurl', 'versioned_writes'],
    );
    expect(info.tempurl).toEqual({
      methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
      incoming_remove_headers: ['x-timestamp'],
      incoming_allow_headers: [],
      outgoing_remove_headers: ['x-object-meta-*'],
      outgoing_allow_headers: ['x-object-meta-public-*'],
      allowed_digests: ['sha1', 'sha256', 'sha512'],
      deprecated_digests: ['sha1'],
    });
    expect(info.bulk_delete).toEqual({ max_deletes_per_request: 10000, max_failed_deletes: 1000 });
    expect(info.bulk_upload).toEqual({ max_containers_per_extraction: 10000, max_failed_extractions: 1000 });
    expect(info.symlink).toEqual({ symloop_max: 2, static_links: true });
    expect(info.versioned_writes).toEqual({ allowed_flags: ['x-versions-location', 'x-history-location'] });
    expect(info.container_quotas).toEqual({});
    expect(info.account_quotas).toEqual({});
    expect(info.slo).toMatchObject({ max_manifest_segments: 1000, max_manifest_size: 8388608, yield_frequency: 10 });
  });

  it('reflects the configured settings, and leaves out what is disabled', async () => {
    const info = JSON.parse((await call(tuned.url, 'GET', '/info')).text);
    expect(info.tempurl.methods).toEqual(['GET', 'HEAD']);
    expect(info.tempurl.allowed_digests).toEqual(['sha256', 'sha512']);
    expect(info.tempurl.deprecated_digests).toBeUndefined();
    expect(info.bulk_delete).toEqual({ max_deletes_per_request: 500, max_failed_deletes: 7 });
    expect(info.bulk_upload.max_containers_per_extraction).toBe(20);
    expect(info.symlink.symloop_max).toBe(5);
    expect(info.versioned_writes).toBeUndefined();
  });

  it('describes constraints, policies and middleware to anyone', async () => {
    const r = await call(cl.url, 'GET', '/info');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=UTF-8');
    const info = JSON.parse(r.text);
    expect(info.swift).toMatchObject({
      version: '2.30.1',
      max_file_size: 5368709122,
      max_meta_count: 90,
      max_meta_overall_size: 4096,
      container_listing_limit: 10000,
      max_object_name_length: 1024,
      allow_account_management: true,
      account_autocreate: true,
      policies: [{ name: 'Policy-0', aliases: 'Policy-0', default: true }],
    });
    // Hidden by default, as in Swift.
    expect(info.swift.valid_api_versions).toBeUndefined();
    expect(info.swift.auto_create_account_prefix).toBeUndefined();
    expect(info.tempauth).toEqual({ account_acls: true });
    const h = await call(cl.url, 'HEAD', '/info');
    expect(h.status).toBe(200);
    expect(h.raw.length).toBe(0);
  });

  it('echoes CORS headers for an Origin and answers OPTIONS', async () => {
    const r = await call(cl.url, 'GET', '/info', { Origin: 'https://example.com' });
    expect(r.headers['access-control-allow-origin']).toBe('https://example.com');
    expect(r.headers['access-control-expose-headers']).toBe('x-trans-id');
    const o = await call(cl.url, 'OPTIONS', '/info');
    expect(o.status).toBe(200);
    expect(o.headers.allow).toBe('HEAD, GET, OPTIONS');
    expect((await call(cl.url, 'POST', '/info')).status).toBe(405);
  });

  it('shows disallowed sections only to requests signed with admin_key', async () => {
    const plain = JSON.parse((await call(locked.url, 'GET', '/info')).text);
    expect(plain.tempauth).toBeUndefined();
    expect(plain.swift.max_file_size).toBeUndefined();
    expect(plain.swift.max_meta_count).toBe(90);
    const expires = Math.floor(Date.now() / 1000) + 60;
    const sig = createHmac('sha1', 's3cret').update(`GET\n${expires}\n/info`).digest('hex');
    const admin = await call(locked.url, 'GET', `/info?swiftinfo_sig=${sig}&swiftinfo_expires=${expires}`);
    expect(admin.status).toBe(200);
    expect(JSON.parse(admin.text).tempauth).toEqual({ account_acls: true });
    expect((await call(locked.url, 'GET', `/info?swiftinfo_sig=${'0'.repeat(40)}&swiftinfo_expires=${expires}`)).status).toBe(401);
    expect((await call(locked.url, 'GET', `/info?swiftinfo_sig=${sig}&swiftinfo_expires=${expires - 120}`)).status).toBe(401);
    expect((await call(locked.url, 'GET', `/info?swiftinfo_sig=${sig}&swiftinfo_expires=soon`)).status).toBe(401);
    // Without an admin_key, a signed request is refused outright.
    expect((await call(cl.url, 'GET', `/info?swiftinfo_sig=${sig}&swiftinfo_expires=${expires}`)).status).toBe(403);
  });
});
