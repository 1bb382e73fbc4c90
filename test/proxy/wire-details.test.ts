/**
 * Wire details a Swift client sees at the proxy's front door, each checked by hand against a
 * real Swift 2.30.1 proxy (eventlet 0.33) first: raw bytes in the request line, header names as
 * swob spells them, eventlet's Connection header, and the request-line limit as eventlet counts it.
 */
import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { DEV_PROXY_CONF } from '../../src/cluster/dev-cluster';
import { pythonTitle } from '../../src/compat/title-case';
import { RequestStream } from '../../src/proxy/request-line';
import { RESPONSE_414 } from '../../src/proxy/server';

interface Answer {
  statusLine: string;
  /** Header lines as sent: names keep their case. */
  headers: Array<[string, string]>;
  body: Buffer;
}

/**
 * Sends `bytes` (or its pieces, one read each) on one connection and reads `count` answers (fewer
 * when the server closes first). `heads` marks answers to HEAD requests, which have no body.
 */
function exchange(base: string, bytes: Buffer | Buffer[], count: number, heads: boolean[] = []): Promise<{ answers: Answer[]; closed: boolean; raw: Buffer }> {
  const u = new URL(base);
  // Pieces go out 150 ms apart, so the server reads each on its own.
  const pieces = Array.isArray(bytes) ? bytes : [bytes];
  const send = async (sock: Socket) => {
    for (const [i, piece] of pieces.entries()) {
      if (i > 0) await new Promise((r) => setTimeout(r, 150));
      if (!sock.destroyed) sock.write(piece);
    }
  };
  return new Promise((resolve) => {
    const sock = connect({ host: u.hostname, port: Number(u.port) }, () => void send(sock));
    let buf = Buffer.alloc(0);
    const answers: Answer[] = [];
    let closed = false;
    let all = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ answers, closed, raw: all });
    };
    // After the last expected answer, a short wait shows whether the server closes.
    let timer = setTimeout(done, 20_000);
    const parse = () => {
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
        const headers = lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
        const len = Number(headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1] ?? 0);
        const bodyLen = heads[answers.length] ? 0 : len;
        if (buf.length < end + 4 + bodyLen) return;
        answers.push({ statusLine: lines[0]!, headers, body: buf.subarray(end + 4, end + 4 + bodyLen) });
        buf = buf.subarray(end + 4 + bodyLen);
        if (answers.length === count) {
          clearTimeout(timer);
          timer = setTimeout(done, 300);
        }
      }
    };
    sock.on('data', (d: Buffer) => {
      all = Buffer.concat([all, d]);
      buf = Buffer.concat([buf, d]);
      parse();
    });
    sock.on('close', () => {
      closed = true;
      done();
    });
    // A server closing with request bytes unread may reset the connection: what was read stands.
    sock.on('error', () => {
      closed = true;
      done();
    });
  });
}

const names = (a: Answer) => a.headers.map(([k]) => k);
const header = (a: Answer, name: string) => a.headers.find(([k]) => k.toLowerCase() === name)?.[1];
const utf8 = (s: string) => Buffer.from(s, 'utf8');

describe('header names: Python bytes.title()', () => {
  // Produced by python3: n.encode('latin1').title().decode('latin1').
  const PYTHON: Array<[string, string]> = [
    ['content-type', 'Content-Type'],
    ['etag', 'Etag'],
    ['x-openstack-request-id', 'X-Openstack-Request-Id'],
    ['x-account-meta-temp-url-key', 'X-Account-Meta-Temp-Url-Key'],
    ['x-object-meta-snake_case', 'X-Object-Meta-Snake_Case'],
    ['x-object-meta-1abc', 'X-Object-Meta-1Abc'],
    ['x-object-meta-a1b2c3', 'X-Object-Meta-A1B2C3'],
    ['x-object-meta-\u00fcber', 'X-Object-Meta-\u00fcBer'],
    ['x-object-meta-x.y:z', 'X-Object-Meta-X.Y:Z'],
    ['ETAG', 'Etag'],
    ['X-OBJECT-META-MiXeD', 'X-Object-Meta-Mixed'],
    ['x-object-meta-__x__', 'X-Object-Meta-__X__'],
    ["x-object-meta-ab'cd", "X-Object-Meta-Ab'Cd"],
    ['www-authenticate', 'Www-Authenticate'],
    ['', ''],
  ];
  it.each(PYTHON)('%j → %j', (name, titled) => {
    expect(pythonTitle(name)).toBe(titled);
  });

  const python = spawnSync('python3', ['-c', 'print(1)'], { encoding: 'utf8' });
  it.skipIf(python.status !== 0)('matches python3 on names with digits, underscores, punctuation and high bytes', () => {
    const sample: string[] = [];
    const alphabet = 'aZ09_-.:\'!~ \u00e9\u00ff\u00c0';
    for (let i = 0; i < 300; i++) {
      let s = '';
      for (let j = 0; j < 1 + (i % 12); j++) s += alphabet[(i * 7 + j * 13 + ((i * j) % 5)) % alphabet.length];
      sample.push(s);
    }
    const r = spawnSync('python3', ['-c', 'import json,sys; print(json.dumps([n.encode("latin1").title().decode("latin1") for n in json.load(sys.stdin)]))'], { input: JSON.stringify(sample), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(sample.map(pythonTitle)).toEqual(JSON.parse(r.stdout));
  });
});

describe('RequestStream (bytes handed to the parser)', () => {
  const feed = (input: Buffer, split: number) => {
    const s = new RequestStream(8192, 100_000);
    const out: Buffer[] = [];
    for (let i = 0; i < input.length; i += split) out.push(s.transform(input.subarray(i, i + split)));
    return { out: Buffer.concat(out), lines: s.lineLengths };
  };

  it('hands an ASCII chunk on as the same buffer (no copy)', () => {
    const chunk = Buffer.from('GET /v1/a/c/o HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /x HTTP/1.1\r\n\r\n');
    const s = new RequestStream(8192, 100_000);
    expect(s.transform(chunk)).toBe(chunk);
    expect(s.lineLengths).toEqual([24, 17]);
  });

  it('encodes only the request targets, across pipelined requests and chunked bodies, however split', () => {
    // Bodies full of bytes >= 0x80 and request-line look-alikes, in both framings.
    const body = Buffer.concat([utf8('GET /é HTTP/1.1\r\n'), Buffer.from([0xff, 0x80, 0x0a, 0x20])]);
    const chunked = Buffer.concat([Buffer.from(`${body.length.toString(16)};ext=1\r\n`), body, Buffer.from('\r\n0\r\nX-Trailer: \xe9\r\n\r\n', 'latin1')]);
    // The same requests with the targets as sent and as the parser must get them.
    const stream = (put: Buffer, post: Buffer, head: Buffer, after: string) =>
      Buffer.concat([
        Buffer.from('\r\nPUT /v1/a/c/'),
        put,
        utf8(' HTTP/1.1\r\nHost: x\r\nX-Object-Meta-A: é\r\ncontent-length: '),
        Buffer.from(`${body.length}\r\n\r\n`),
        body,
        Buffer.from('POST /v1/a/c/'),
        post,
        Buffer.from(' HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'),
        chunked,
        Buffer.from('HEAD /v1/a/c/'),
        head,
        Buffer.from(` HTTP/1.1\r\nConnection: close\r\n\r\n${after}`, 'latin1'),
      ]);
    const input = stream(utf8('é?q=ü'), utf8('ß'), Buffer.from([0xff]), 'GET /after-close/\xe9 HTTP/1.1\r\n\r\n');
    // What follows a request ending the connection never reaches the parser.
    const expected = stream(Buffer.from('%C3%A9?q=%C3%BC'), Buffer.from('%C3%9F'), Buffer.from('%FF'), '');
    for (const split of [1, 2, 3, 7, 16, 61, input.length]) {
      const { out, lines } = feed(input, split);
      expect(out.toString('latin1'), `split ${split}`).toBe(expected.toString('latin1'));
      // Raw lengths, terminator included, before encoding.
      expect(lines).toEqual([utf8('PUT /v1/a/c/é?q=ü HTTP/1.1\r\n').length, utf8('POST /v1/a/c/ß HTTP/1.1\r\n').length, 25]);
    }
  });

  it('ends a request line sent with LF alone with CR LF, counting it as sent', () => {
    const { out, lines } = feed(Buffer.from('GET /\xe9 HTTP/1.1\nHost: x\r\n\r\n', 'latin1'), 4);
    expect(out.toString('latin1')).toBe('GET /%E9 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(lines).toEqual([16]);
  });

  it('stops rewriting on framing it does not follow, leaving the bytes to the parser', () => {
    for (const head of ['Content-Length: 1\r\nTransfer-Encoding: chunked', 'Content-Length: 1\r\nContent-Length: 1', 'Content-Length: x', 'Transfer-Encoding: gzip', 'Upgrade: websocket\r\nConnection: upgrade', 'X-A: b\r\n folded']) {
      const input = Buffer.from(`POST / HTTP/1.1\r\n${head}\r\n\r\nxGET /\xe9 HTTP/1.1\r\n\r\n`, 'latin1');
      expect(feed(input, 5).out.toString('latin1'), head).toBe(input.toString('latin1'));
    }
  });
});

describe('the proxy at the wire', () => {
  let cluster: TestCluster;
  let token: string;
  const req = (method: string, target: string | Buffer, headers: Record<string, string | number> = {}, body: Buffer | string = '', version = 'HTTP/1.1') => {
    const lines = Object.entries({ Host: 'x', 'X-Auth-Token': token, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
    return Buffer.concat([Buffer.from(`${method} `), typeof target === 'string' ? utf8(target) : target, Buffer.from(` ${version}\r\n${lines.join('')}\r\n`, 'latin1'), Buffer.from(body)]);
  };
  const one = async (bytes: Buffer, head = false) => (await exchange(cluster.url, bytes, 1, [head])).answers[0]!;

  beforeAll(async () => {
    cluster = await startCluster({ proxyConfig: DEV_PROXY_CONF });
    const auth = await fetch(`${cluster.url}/auth/v1.0`, { headers: { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' } });
    token = auth.headers.get('x-auth-token')!;
    expect((await one(req('PUT', '/v1/AUTH_test/wire', { 'Content-Length': 0, 'X-Container-Meta-Access-Control-Allow-Origin': '*' }))).statusLine).toMatch(/^HTTP\/1\.1 20[12] /);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  describe('raw UTF-8 in the request target', () => {
    it('stores, reads, lists and deletes an object named with raw é as its percent-encoded form', async () => {
      const put = await one(req('PUT', '/v1/AUTH_test/wire/café', { 'Content-Length': 2, Connection: 'close' }, 'hi'));
      expect(put.statusLine).toBe('HTTP/1.1 201 Created');
      const get = await one(req('GET', '/v1/AUTH_test/wire/caf%C3%A9', { Connection: 'close' }));
      expect([get.statusLine, get.body.toString()]).toEqual(['HTTP/1.1 200 OK', 'hi']);
      const head = await one(req('HEAD', '/v1/AUTH_test/wire/café', { Connection: 'close' }), true);
      expect([head.statusLine, header(head, 'content-length')]).toEqual(['HTTP/1.1 200 OK', '2']);
      const list = await one(req('GET', '/v1/AUTH_test/wire?prefix=café&format=json', { Connection: 'close' }));
      expect(JSON.parse(list.body.toString()).map((o: { name: string }) => o.name)).toEqual(['café']);
      const del = await one(req('DELETE', '/v1/AUTH_test/wire/café', { Connection: 'close' }));
      expect(del.statusLine).toBe('HTTP/1.1 204 No Content');
    });

    it('answers invalid UTF-8 in the path with Swift 412 and its body', async () => {
      for (const target of [Buffer.from('/v1/AUTH_test/wire/caf\xe9', 'latin1'), Buffer.from('/v1/AUTH_test/w\xff/o', 'latin1')]) {
        const a = await one(req('GET', target, { Connection: 'close' }));
        expect([a.statusLine, a.body.toString()]).toEqual(['HTTP/1.1 412 Precondition Failed', 'Invalid UTF8 or contains NULL']);
      }
    });

    it('serves pipelined keep-alive requests with raw bytes in paths, queries and bodies', async () => {
      // Node runs pipelined requests side by side (eventlet one after the other), so the
      // object read in the pipeline exists before it starts.
      const body = Buffer.concat([utf8('GET /v1/AUTH_test/wire/é HTTP/1.1\r\n\r\n'), Buffer.from([0xff, 0xfe, 0x80])]);
      expect((await one(req('PUT', '/v1/AUTH_test/wire/piped-ü', { 'Content-Length': body.length, Connection: 'close' }, body))).statusLine).toBe('HTTP/1.1 201 Created');
      const bytes = Buffer.concat([
        req('PUT', '/v1/AUTH_test/wire/piped-ß', { 'Content-Length': body.length }, body),
        req('GET', '/v1/AUTH_test/wire/piped-ü?x=é'),
        req('HEAD', '/v1/AUTH_test/wire/piped-%C3%BC'),
        req('GET', '/v1/AUTH_test/wire/piped-ü', { Connection: 'close' }),
        req('GET', '/v1/AUTH_test/wire/never-read'),
      ]);
      const { answers, closed } = await exchange(cluster.url, bytes, 5, [false, false, true, false, false]);
      expect(answers.map((a) => a.statusLine)).toEqual(['HTTP/1.1 201 Created', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
      expect(answers[1]!.body.equals(body)).toBe(true);
      expect(answers[3]!.body.equals(body)).toBe(true);
      expect(closed).toBe(true);
      const stored = await one(req('GET', '/v1/AUTH_test/wire/piped-%C3%9F', { Connection: 'close' }));
      expect(stored.body.equals(body)).toBe(true);
    });
  });

  // Node's parser reads each connection itself and refuses these bytes; the connection then
  // goes on through a RequestStream from the refused request (request-line.ts).
  describe('raw bytes after Node\'s parser has read a connection', () => {
    const get = (target: string, headers: Record<string, string | number> = {}) => req('GET', target, headers);
    beforeAll(async () => {
      expect((await one(req('PUT', '/v1/AUTH_test/wire/later-é', { 'Content-Length': 5, Connection: 'close' }, 'later'))).statusLine).toBe('HTTP/1.1 201 Created');
    });

    it('in a request read on its own after others on the connection', async () => {
      const { answers, closed } = await exchange(cluster.url, [get('/healthcheck'), get('/healthcheck'), get('/v1/AUTH_test/wire/later-é', { Connection: 'close' })], 3);
      expect(answers.map((a) => a.statusLine)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
      expect(answers[2]!.body.toString()).toBe('later');
      expect(closed).toBe(true);
    });

    it('in a request that follows, in the same read, the end of a head split across reads', async () => {
      const first = get('/healthcheck', { 'X-Padding': 'p'.repeat(200) });
      const { answers } = await exchange(cluster.url, [first.subarray(0, 60), Buffer.concat([first.subarray(60), get('/v1/AUTH_test/wire/later-é?x=ü', { Connection: 'close' })])], 2);
      expect(answers.map((a) => a.statusLine)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
      expect(answers[1]!.body.toString()).toBe('later');
    });

    it('in a request line ended by LF alone, after a request with a body', async () => {
      const put = req('PUT', '/v1/AUTH_test/wire/lf-after-body', { 'Content-Length': 4 }, 'body');
      const lfOnly = Buffer.concat([utf8('GET /v1/AUTH_test/wire/lf-after-body HTTP/1.1\n'), Buffer.from(`Host: x\r\nX-Auth-Token: ${token}\r\nConnection: close\r\n\r\n`)]);
      const { answers } = await exchange(cluster.url, [put, lfOnly], 2);
      expect(answers.map((a) => a.statusLine)).toEqual(['HTTP/1.1 201 Created', 'HTTP/1.1 200 OK']);
      expect(answers[1]!.body.toString()).toBe('body');
    });

    it('refuses with eventlet\'s 414 a request line past the limit sent over several reads', async () => {
      const long = Buffer.from(`GET /healthcheck?q=${'a'.repeat(90_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const { raw, closed } = await exchange(cluster.url, [get('/healthcheck'), long.subarray(0, 30_000), long.subarray(30_000, 60_000), long.subarray(60_000)], 2);
      expect(raw.subarray(raw.length - RESPONSE_414.length).equals(RESPONSE_414), raw.toString('latin1').slice(-200)).toBe(true);
      expect(raw.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(closed).toBe(true);
    });

    it('keeps the connection after an answer sent before the body was read, when the body came with the head', async () => {
      // The 401 goes out before anything reads the upload; its bytes were all there already.
      const put = req('PUT', '/v1/AUTH_test/wire/no-token', { 'Content-Length': 10, 'X-Auth-Token': 'AUTH_tk-not-a-token' }, '0123456789');
      const { answers } = await exchange(cluster.url, Buffer.concat([put, get('/healthcheck', { Connection: 'close' })]), 2);
      expect(answers.map((a) => a.statusLine)).toEqual(['HTTP/1.1 401 Unauthorized', 'HTTP/1.1 200 OK']);
      expect(header(answers[0]!, 'connection')).toBeUndefined();
    });

    it('answers 400 to one that came in the same read as the end of an upload, after storing the upload', async () => {
      const put = req('PUT', '/v1/AUTH_test/wire/split-body', { 'Content-Length': 6 }, 'uploaded');
      const cut = put.length - 3;
      const { raw } = await exchange(cluster.url, [put.subarray(0, cut), Buffer.concat([put.subarray(cut, put.length - 2), get('/v1/AUTH_test/wire/later-é')])], 2);
      // The upload is answered first, then the refusal, and the connection ends.
      expect(raw.toString('latin1')).toMatch(/^HTTP\/1\.1 201 Created\r\n[\s\S]*\r\n\r\nHTTP\/1\.1 400 Bad Request\r\n/);
      const stored = await one(req('GET', '/v1/AUTH_test/wire/split-body', { Connection: 'close' }));
      expect([stored.statusLine, stored.body.toString()]).toEqual(['HTTP/1.1 200 OK', 'upload']);
    });
  });

  describe('header names as Swift writes them', () => {
    const swiftCase = (a: Answer) => names(a).filter((n) => n !== pythonTitle(n));

    it('object, container and account answers, errors, /info, /auth and healthcheck', async () => {
      await one(req('PUT', '/v1/AUTH_test/wire/meta', { 'Content-Length': 1, 'X-Object-Meta-Color': 'blue', 'x-object-meta-2tone': 'x', 'Content-Type': 'text/plain', Connection: 'close' }, 'x'));
      const head = await one(req('HEAD', '/v1/AUTH_test/wire/meta', { Connection: 'close' }), true);
      // The set Swift sent for the same request (order aside).
      expect(names(head).filter((n) => n !== 'Date').sort()).toEqual(
        ['Accept-Ranges', 'Connection', 'Content-Length', 'Content-Type', 'Etag', 'Last-Modified', 'X-Object-Meta-2Tone', 'X-Object-Meta-Color', 'X-Openstack-Request-Id', 'X-Timestamp', 'X-Trans-Id'].sort(),
      );
      const answers = [
        head,
        await one(req('GET', '/v1/AUTH_test/wire/meta', { Range: 'bytes=0-0', Connection: 'close' })),
        await one(req('GET', '/v1/AUTH_test/wire/meta', { 'If-None-Match': '*', Connection: 'close' })),
        await one(req('GET', '/v1/AUTH_test/wire', { Connection: 'close' })),
        await one(req('POST', '/v1/AUTH_test', { 'X-Account-Meta-Shade': 'x', Connection: 'close' })),
        await one(req('HEAD', '/v1/AUTH_test', { Connection: 'close' }), true),
        await one(req('GET', '/v1/AUTH_test/wire/missing', { Connection: 'close' })),
        await one(req('GET', '/v1/AUTH_test/wire', { 'X-Auth-Token': 'AUTH_tkbad', Connection: 'close' })),
        await one(req('PATCH', '/v1/AUTH_test/wire/meta', { Connection: 'close' })),
        await one(req('GET', '/info', { Connection: 'close' })),
        await one(req('GET', '/healthcheck', { Connection: 'close' })),
        await one(req('GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing', Connection: 'close' })),
      ];
      expect(answers.map((a) => a.statusLine.slice(9, 12))).toEqual(['200', '206', '304', '200', '204', '204', '404', '401', '405', '200', '200', '200']);
      for (const a of answers) expect(swiftCase(a), a.statusLine).toEqual([]);
      expect(names(answers[7]!)).toContain('Www-Authenticate');
      expect(names(answers[11]!)).toEqual(expect.arrayContaining(['X-Auth-Token', 'X-Storage-Url', 'X-Auth-Token-Expires']));
      expect(names(answers[5]!)).toEqual(expect.arrayContaining(['X-Account-Meta-Shade', 'X-Account-Container-Count']));
    });

    it('keeps the CORS preflight headers Swift sets in lower case', async () => {
      const a = await one(req('OPTIONS', '/v1/AUTH_test/wire/meta', { Origin: 'http://example.com', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-foo', Connection: 'close' }));
      expect(a.statusLine).toBe('HTTP/1.1 200 OK');
      expect(names(a)).toEqual(expect.arrayContaining(['Allow', 'access-control-allow-origin', 'Access-Control-Allow-Methods', 'access-control-allow-headers', 'vary']));
    });
  });

  describe("eventlet's Connection header", () => {
    const twice = (version: string, connection?: string) => {
      const r = req('GET', '/healthcheck', connection ? { Connection: connection } : {}, '', version);
      return exchange(cluster.url, Buffer.concat([r, r]), 2);
    };
    it.each([
      ['HTTP/1.1', undefined, 2, [undefined, undefined]],
      ['HTTP/1.1', 'keep-alive', 2, ['keep-alive', 'keep-alive']],
      ['HTTP/1.1', 'Keep-Alive', 2, ['keep-alive', 'keep-alive']],
      ['HTTP/1.1', 'close', 1, ['close']],
      ['HTTP/1.0', undefined, 1, ['close']],
      ['HTTP/1.0', 'keep-alive', 2, ['keep-alive', 'keep-alive']],
      ['HTTP/1.0', 'keep-alive, te', 1, ['close']],
    ] as const)('%s with Connection: %s', async (version, connection, count, sent) => {
      const { answers } = await twice(version, connection);
      expect(answers.map((a) => a.statusLine)).toEqual(Array(count).fill('HTTP/1.1 200 OK'));
      expect(answers.map((a) => header(a, 'connection'))).toEqual(sent);
      for (const a of answers) expect(header(a, 'keep-alive')).toBeUndefined();
    });
  });

  describe('request-line limit as eventlet counts it (bytes as sent, terminator included)', () => {
    const line = (total: number, eol = '\r\n', tail = '') => {
      const start = 'GET /healthcheck?q=';
      const end = ` HTTP/1.1${eol}`;
      return Buffer.concat([Buffer.from(start + 'a'.repeat(total - start.length - end.length - Buffer.byteLength(tail))), utf8(tail), Buffer.from(`${end}Host: x\r\nConnection: close\r\n\r\n`)]);
    };
    it.each([
      ['CR LF', '\r\n', ''],
      ['LF alone', '\n', ''],
      ['a raw é', '\r\n', 'é'],
    ])('%s: 8191 bytes are served, 8192 refused with eventlet 414', async (_label, eol, tail) => {
      expect((await one(line(8191, eol, tail))).statusLine).toBe('HTTP/1.1 200 OK');
      for (const total of [8192, 8193]) {
        const { raw, closed } = await exchange(cluster.url, line(total, eol, tail), 1);
        expect(raw.equals(RESPONSE_414), raw.toString('latin1')).toBe(true);
        expect(closed).toBe(true);
      }
    });

    it('refuses a request line far past the limit the same way (not Node\'s header overflow)', async () => {
      for (const total of [20_000, 80_000]) {
        const { raw, closed } = await exchange(cluster.url, line(total), 1);
        expect(raw.equals(RESPONSE_414), raw.toString('latin1')).toBe(true);
        expect(closed).toBe(true);
      }
    });

    it('sends the 414 after the answers to requests pipelined before it', async () => {
      const ok = req('GET', '/healthcheck');
      const { answers, closed } = await exchange(cluster.url, Buffer.concat([ok, line(9000)]), 2);
      expect(answers.map((a) => a.statusLine)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.0 414 Request URI Too Long']);
      expect(closed).toBe(true);
    });
  });
  describe('framing and Host', () => {
    it('serves HTTP/1.0 without Host, as Swift (URLs from the address it came in on)', async () => {
      const bytes = Buffer.from('GET /healthcheck HTTP/1.0\r\n\r\n', 'latin1');
      const a = await one(bytes);
      expect([a.statusLine, a.body.toString()]).toEqual(['HTTP/1.1 200 OK', 'OK']);
      const auth = await one(Buffer.from('GET /auth/v1.0 HTTP/1.0\r\nX-Auth-User: test:tester\r\nX-Auth-Key: testing\r\n\r\n', 'latin1'));
      expect(header(auth, 'x-storage-url')).toBe(`${cluster.url}/v1/AUTH_test`);
    });

    it('refuses HTTP/1.1 without Host (RFC 9112)', async () => {
      const a = await one(Buffer.from('GET /healthcheck HTTP/1.1\r\n\r\n', 'latin1'));
      expect(a.statusLine).toBe('HTTP/1.1 400 Bad Request');
    });

    it('answers a Transfer-Encoding it cannot frame, and two Content-Lengths, with a 400 that says so', async () => {
      const te = await one(req('PUT', '/v1/AUTH_test/wire/te', { 'Transfer-Encoding': 'identity' }, 'x'));
      expect([te.statusLine, header(te, 'content-type'), te.body.toString()]).toEqual(['HTTP/1.1 400 Bad Request', 'text/plain', 'Invalid Transfer-Encoding header value']);
      const two = await one(Buffer.from(`PUT /v1/AUTH_test/wire/cl HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${token}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx`, 'latin1'));
      expect([two.statusLine, two.body.toString()]).toEqual(['HTTP/1.1 400 Bad Request', 'Conflicting Content-Length headers: a request has one length']);
      expect((await one(req('HEAD', '/v1/AUTH_test/wire/cl', { Connection: 'close' }), true)).statusLine).toBe('HTTP/1.1 404 Not Found');
    });

    it("passes on the storage servers' 414 for a request line their longer path takes past eventlet's limit", async () => {
      // /v1/AUTH_test/wire/<name> is 8,190 bytes on the request line; /<device>/<part>/AUTH_test/wire/<name> is longer.
      const prefix = 'GET /v1/AUTH_test/wire/';
      const name = 'n'.repeat(8190 - prefix.length - ' HTTP/1.1\r\n'.length);
      const a = await one(req('GET', `/v1/AUTH_test/wire/${name}`, { Connection: 'close' }));
      expect(a.statusLine).toBe('HTTP/1.1 414 Request URI Too Long');
    });
  });
});
