import { describe, expect, it } from 'vitest';
import { BadAcceptError, forceJsonFormat, listingContentType, NotAcceptableError, renderListing } from '../../src/common/listing-format';

describe('listingContentType', () => {
  it('prefers format= over Accept', () => {
    expect(listingContentType('json', 'text/xml')).toBe('application/json');
    expect(listingContentType('XML', undefined)).toBe('application/xml');
    expect(listingContentType('bogus', undefined)).toBe('text/plain');
    expect(listingContentType(undefined, undefined)).toBe('text/plain');
  });
  it('negotiates Accept with q-values and specificity', () => {
    expect(listingContentType(undefined, 'application/json')).toBe('application/json');
    expect(listingContentType(undefined, 'text/xml')).toBe('text/xml');
    expect(listingContentType(undefined, '*/*')).toBe('text/plain');
    expect(listingContentType(undefined, 'application/*')).toBe('application/json');
    expect(listingContentType(undefined, 'text/plain;q=0.5, application/xml')).toBe('application/xml');
    expect(() => listingContentType(undefined, 'image/png')).toThrow(NotAcceptableError);
    expect(() => listingContentType(undefined, 'garbage')).toThrow(BadAcceptError);
  });
});

describe('renderListing', () => {
  const entries = [
    { name: 'a<&>"', count: 1, bytes: 2, last_modified: '2023-11-14T22:13:20.123450' },
    { subdir: 'd/' },
  ];
  it('renders JSON as Python json.dumps (ensure_ascii, spaced separators)', () => {
    expect(renderListing([{ subdir: 'é😀' }], 'application/json', 'account', 'a')).toBe('[{"subdir": "\\u00e9\\ud83d\\ude00"}]');
    expect(renderListing([{ subdir: 'a, b: c' }], 'application/json', 'account', 'a')).toBe('[{"subdir": "a, b: c"}]');
  });
  it('renders plain text, one name per line', () => {
    expect(renderListing(entries, 'text/plain', 'account', 'AUTH_a')).toBe('a<&>"\nd/\n');
  });
  it('renders XML as ElementTree does (account: one entry per line, subdirs empty)', () => {
    expect(renderListing(entries, 'application/xml', 'account', 'AUTH_a')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<account name="AUTH_a">\n<container><name>a&lt;&amp;&gt;"</name><count>1</count><bytes>2</bytes><last_modified>2023-11-14T22:13:20.123450</last_modified></container>\n<subdir name="d/" />\n</account>',
    );
    expect(renderListing([], 'application/xml', 'account', 'a"b')).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<account name="a&quot;b">\n</account>');
  });
  it('renders container XML without line breaks, subdirs with a name', () => {
    const objs = [{ name: 'o', hash: 'h', bytes: 1, content_type: 't/p', last_modified: 'x' }, { subdir: 'd/' }];
    expect(renderListing(objs, 'text/xml', 'container', 'c')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<container name="c"><object><name>o</name><hash>h</hash><bytes>1</bytes><content_type>t/p</content_type><last_modified>x</last_modified></object><subdir name="d/"><name>d/</name></subdir></container>',
    );
    expect(renderListing([], 'application/xml', 'container', 'c')).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<container name="c" />');
  });
});

describe('forceJsonFormat (listing_formats setting req.params)', () => {
  it('replaces any format, keeps the last of a repeated name, re-encodes as urlencode', () => {
    expect(forceJsonFormat('')).toBe('format=json');
    expect(forceJsonFormat('format=xml&limit=2')).toBe('format=json&limit=2');
    expect(forceJsonFormat('form%61t=xml&prefix=a&prefix=b')).toBe('format=json&prefix=b');
    expect(forceJsonFormat('prefix=%c3%a9+x&marker')).toBe('prefix=%C3%A9+x&marker=&format=json');
  });
});
