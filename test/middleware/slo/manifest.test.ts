/**
 * SLO manifest parsing and the values computed from a stored manifest, compared with Swift's
 * own parse_and_validate_input (Debian's python3-swift) on the same bodies: the 400 bodies
 * list every problem exactly as Swift words them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HttpException } from '../../../src/compat/http-exception';
import { parseAndValidateInput, rawManifest, segmentLength, sloEtag, strictB64Decode } from '../../../src/middleware/slo/manifest';

const REQ = '/v1/AUTH_a/c/m';

/** Ours: the 400 body, or the segments (ranges and sizes as Swift would have them). */
function ours(body: string): unknown {
  try {
    return parseAndValidateInput(Buffer.from(body, 'utf8'), REQ).map((s) =>
      s.kind === 'data' ? { data: s.data } : { path: s.path, ...(s.etag !== undefined ? { etag: s.etag } : {}), ...(s.size !== undefined ? { size_bytes: s.size } : {}), ...(s.range ? { range: [s.range.start, s.range.end] } : {}) },
    );
  } catch (err) {
    if (err instanceof HttpException) return { status: err.status, body: err.body };
    throw err;
  }
}

const CASES = [
  'nope',
  '{}',
  '[]',
  '[{"path": "/c/o"}, 1]',
  '[{"path": "/c/o", "x": 1, "y": 2}]',
  '[{"path": "c/o", "size_bytes": "1.5"}]',
  '[{"path": "c/o", "size_bytes": 1.5}]',
  '[{"path": "c/o", "size_bytes": " 1_0 "}]',
  '[{"path": "c/o", "size_bytes": [1]}]',
  '[{"path": "c/o", "size_bytes": 0}, {"path": "c/o", "size_bytes": 0}]',
  '[{"path": "c/o", "range": "1-2,3-4"}]',
  '[{"path": "c/o", "range": "x"}]',
  '[{"path": "c/o", "range": "5-", "size_bytes": 3}]',
  '[{"path": "c/o", "range": "-2", "size_bytes": 3}]',
  '[{"path": "c/o", "range": ""}]',
  '[{"path": 5}, {"path": "c/o", "etag": 5}, {"path": "co"}, {"path": "/c/"}]',
  '[{"path": "c/m"}]',
  '[{"path": "/c/m"}]',
  '[{"path": "c/o", "etag": null}]',
  '[{"data": "YQ"}]',
  '[{"data": "YQ=="}, {"path": "c/o"}]',
  '[{"data": "=YQ==="}, {"path": "c/o"}]',
  '[{"data": "YQ==YQ=="}, {"path": "c/o"}]',
  '[{"data": ""}, {"path": "c/o"}]',
  '[{"data": 5}, {"path": "c/o"}]',
  '[{"data": "YWJj"}]',
  '[{"path": "c/o", "data": "YQ=="}]',
  '[{"path": "c/\\u2603", "size_bytes": "7"}]',
];

const PY = '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', 'import swift.common.middleware.slo'], { encoding: 'utf8' });
const haveSwift = probe.status === 0;
if (!haveSwift && process.env.CI) throw new Error(`Swift's slo is required in CI: ${probe.stderr?.trim() || `${PY} missing`}`);
const skipReason = haveSwift ? '' : `(skipped: ${PY} cannot import swift.common.middleware.slo)`;

describe.skipIf(!haveSwift)(`parse_and_validate_input agrees with Swift ${skipReason}`, () => {
  it('gives the same segments and the same 400 bodies', () => {
    const script = `
import json, sys
from swift.common.middleware.slo import parse_and_validate_input
from swift.common.swob import HTTPException
out = []
for body in json.loads(sys.argv[1]):
    try:
        segs = parse_and_validate_input(body.encode('utf-8'), sys.argv[2])
        res = []
        for s in segs:
            s = dict(s)
            if s.get('range'):
                s['range'] = list(s['range'].ranges[0])
            else:
                s.pop('range', None)
            res.append(s)
        out.append(res)
    except HTTPException as e:
        out.append({'status': e.status_int, 'body': e.body.decode('utf-8')})
print(json.dumps(out))`;
    const expected = JSON.parse(execFileSync(PY, ['-c', script, JSON.stringify(CASES), REQ]).toString()) as unknown[];
    CASES.forEach((body, i) => expect(ours(body), body).toEqual(expected[i]));
  });
});

describe('manifest parsing', () => {
  it('reports what Swift 2.30 fails on with a 500 as 400s', () => {
    // Swift builds this message with bytes.join over str and raises TypeError.
    expect(ours('[{"foo": 1}]')).toEqual({ status: 400, body: "Index 0: expected keys to include one of 'data' or 'path'\n" });
    // Swift evaluates `'data' in 1` for the list check and raises TypeError.
    expect(ours('[1, {"path": "c/o"}]')).toEqual({ status: 400, body: 'Index 0: not a JSON object\n' });
  });

  it('decodes base64 as strict_b64decode does', () => {
    expect(strictB64Decode('YQ==')?.toString()).toBe('a');
    expect(strictB64Decode('=YQ===')?.toString()).toBe('a');
    expect(strictB64Decode('YQ')).toBeUndefined();
    expect(strictB64Decode('Y===')).toBeUndefined();
    expect(strictB64Decode('YQ==YQ==')).toBeUndefined();
    expect(strictB64Decode('Y Q==')).toBeUndefined();
    expect(strictB64Decode(5)).toBeUndefined();
  });

  it('computes lengths, the SLO ETag and the raw form of a stored manifest', () => {
    const stored = [
      { name: '/c/a', bytes: 4, hash: '74b87337454200d4d33f80c4663dc5e5', content_type: 'text/plain', last_modified: '2024-01-01T00:00:00.000000' },
      { name: '/c/b', bytes: 5, hash: 'a21075a36eeddd084e17611a238c7101', content_type: 'text/plain', last_modified: '2024-01-01T00:00:00.000000', range: '1-2' },
      { data: 'WFla' },
    ];
    expect(stored.map(segmentLength)).toEqual([4, 2, 3]);
    // md5('74b8...' + 'a210...:1-2;' + md5('XYZ'))
    expect(sloEtag(stored)).toBe('e3fbb67cf68c3221cfba59d3f7557efe');
    expect(rawManifest(stored)).toBe(
      '[{"etag": "74b87337454200d4d33f80c4663dc5e5", "path": "/c/a", "size_bytes": 4}, {"etag": "a21075a36eeddd084e17611a238c7101", "path": "/c/b", "range": "1-2", "size_bytes": 5}, {"data": "WFla"}]',
    );
  });
});
