/**
 * crossdomain through a whole cluster (before auth, as Swift's docs place it): `GET
 * /crossdomain.xml` answered with Swift's document, headers and length (the multi-line policy
 * below is the one of Swift's docstring; Swift 2.30 answers it with Content-Length 268), the
 * default policy, and everything else left to the rest of the pipeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { crossDomainDocument, DEFAULT_CROSS_DOMAIN_POLICY } from '../../src/middleware/crossdomain';
import { proxyConf } from '../helpers/proxy-conf';
import { call } from '../proxy/helpers';

const PIPELINE = ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'cache', 'crossdomain', 'tempauth', 'proxy-logging'];

/** Swift's document for its docstring's example, byte for byte (from Swift 2.30's CrossDomainMiddleware). */
const SWIFT_EXAMPLE =
  '<?xml version="1.0"?>\n' +
  '<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n' +
  '<cross-domain-policy>\n' +
  '<allow-access-from domain="*.example.com" />\n' +
  '<allow-access-from domain="www.example.com" secure="false" />\n' +
  '</cross-domain-policy>';

function start(section: string): Promise<TestCluster> {
  return startCluster({ proxyConfig: proxyConf({ pipeline: PIPELINE, sections: { tempauth: 'dev_users = true', crossdomain: section } }) });
}

describe('crossdomain with a policy over continuation lines', () => {
  let cl: TestCluster;
  beforeAll(async () => {
    cl = await start('cross_domain_policy = <allow-access-from domain="*.example.com" />\n    <allow-access-from domain="www.example.com" secure="false" />\n');
  }, 60_000);
  afterAll(async () => {
    await cl?.stop();
  });

  it('answers GET /crossdomain.xml without auth, as Swift', async () => {
    const res = await call(cl.url, 'GET', '/crossdomain.xml');
    expect(res.status).toBe(200);
    expect(res.text).toBe(SWIFT_EXAMPLE);
    expect(res.headers['content-type']).toBe('application/xml');
    expect(res.headers['content-length']).toBe('268');
  });

  it('matches the path after unquoting, as swob does', async () => {
    expect((await call(cl.url, 'GET', '/crossdomain%2Exml')).text).toBe(SWIFT_EXAMPLE);
  });

  it('leaves other methods and paths to the pipeline', async () => {
    // HEAD is not GET in Swift's middleware: it reaches the proxy (no account in the path).
    const head = await call(cl.url, 'HEAD', '/crossdomain.xml');
    expect(head.status).not.toBe(200);
    expect(head.headers['content-type']).not.toBe('application/xml');
    expect((await call(cl.url, 'GET', '/crossdomain.xml/')).status).not.toBe(200);
    expect((await call(cl.url, 'GET', '/v1/AUTH_test/crossdomain.xml')).status).toBe(401);
  });

  it('registers an empty /info section', async () => {
    expect((await call(cl.url, 'GET', '/info')).text).toContain('"crossdomain": {}');
  });
});

describe('crossdomain with the default policy', () => {
  let cl: TestCluster;
  beforeAll(async () => {
    cl = await start('');
  }, 60_000);
  afterAll(async () => {
    await cl?.stop();
  });

  it('allows every domain', async () => {
    const res = await call(cl.url, 'GET', '/crossdomain.xml?x=1');
    expect(res.status).toBe(200);
    expect(res.text).toBe(crossDomainDocument(DEFAULT_CROSS_DOMAIN_POLICY));
    expect(res.text).toContain('\n<cross-domain-policy>\n<allow-access-from domain="*" secure="false" />\n</cross-domain-policy>');
  });
});
