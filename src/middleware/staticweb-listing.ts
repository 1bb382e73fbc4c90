/**
 * The HTML staticweb writes (swift/common/middleware/staticweb.py, _StaticWebContext._listing
 * and _build_css_path), byte for byte as Swift 2.30 renders it: the listing of a container or
 * pseudo-directory, and the "Web Listing Disabled" page. Pure functions of the container's web
 * settings, the path and the JSON listing, so they can be compared with Swift's own output.
 */
import { quote } from '../compat/quote';

/** The container's web settings (X-Container-Meta-Web-*), stripped as staticweb strips them. */
export interface WebSettings {
  index: string;
  error: string;
  listings: string;
  listingsLabel: string;
  listingsCss: string;
  dirType: string;
}

/** One row of a JSON container listing, as the proxy returns it below listing_formats. */
export interface ListingRow {
  name?: string;
  subdir?: string;
  bytes?: number;
  content_type?: string;
  last_modified?: string;
}

const DOCTYPE = '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">\n';

/** Python's html.escape(s, quote=True). */
export function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
}

/** Python 3's round() of a float to an int: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const frac = x - floor;
  if (frac !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** swift.common.utils.human_readable: 1048576 is "1Mi", 1536 is "2Ki", 2560 is "2Ki". */
export function humanReadable(bytes: number): string {
  const suffixes = 'KMGTPEZY';
  let value = bytes;
  let index = -1;
  while (value >= 1024 && index + 1 < suffixes.length) {
    index += 1;
    value = roundHalfEven(value / 1024);
  }
  if (index === -1) return String(Math.trunc(value));
  return `${roundHalfEven(value)}${suffixes[index]}i`;
}

/**
 * _build_css_path: a style sheet named absolutely (`/`, `http://`, `https://`) is linked as it
 * is (quoted, keeping `:` and `/`); otherwise relative to the container, one `../` for each `/`
 * of the listing's prefix.
 */
export function cssPath(css: string, prefix: string): string {
  if (css.startsWith('/') || css.startsWith('http://') || css.startsWith('https://')) return quote(css, ':/');
  return '../'.repeat(prefix.split('/').length - 1) + quote(css);
}

/**
 * The page's label: the request path, or with X-Container-Meta-Web-Listings-Label the label
 * followed by the path below the container (`example.com/dir/`).
 */
export function listingLabel(path: string, settings: WebSettings): string {
  if (!settings.listingsLabel) return path;
  return `${settings.listingsLabel}/${path.split('/').slice(4).join('/')}`;
}

/** The 404 page for a directory when X-Container-Meta-Web-Listings is not true. */
export function disabledListingPage(label: string, settings: WebSettings, prefix: string): string {
  let body = `${DOCTYPE}<html>\n<head>\n<title>Listing of ${htmlEscape(label)}</title>\n`;
  if (settings.listingsCss) body += `  <link rel="stylesheet" type="text/css" href="${cssPath(settings.listingsCss, prefix)}" />\n`;
  else body += '  <style type="text/css">\n   h1 {font-size: 1em; font-weight: bold;}\n   p {font-size: 2}\n  </style>\n';
  body +=
    '</head>\n<body>  <h1>Web Listing Disabled</h1>   <p>The owner of this web site has disabled web listing.' +
    '   <p>If you are the owner of this web site, you can enable   web listing by setting X-Container-Meta-Web-Listings.</p>';
  // Swift writes the index name unescaped; it is the owner's own text on the owner's own site,
  // which can serve any HTML object anyway, so the page stays byte for byte Swift's.
  if (settings.index) {
    body +=
      '<h1>Index File Not Found</h1> <p>The owner of this web site has set ' +
      ` <b>X-Container-Meta-Web-Index: ${settings.index}</b>.  However, this file is not found.</p>`;
  }
  return `${body} </body>\n</html>\n`;
}

/** Drops the first `n` code points (Python slices str by code point, not UTF-16 unit). */
function dropCodePoints(s: string, n: number): string {
  if (n === 0) return s;
  return Array.from(s).slice(n).join('');
}

/**
 * The listing page: a parent link below the container, then the subdirectories, then the
 * objects (name, human-readable size, date without fractions), names relative to `prefix`.
 */
export function listingPage(label: string, settings: WebSettings, prefix: string, rows: readonly ListingRow[]): string {
  let body = `${DOCTYPE}<html>\n <head>\n  <title>Listing of ${htmlEscape(label)}</title>\n`;
  if (settings.listingsCss) body += `  <link rel="stylesheet" type="text/css" href="${cssPath(settings.listingsCss, prefix)}" />\n`;
  else {
    body +=
      '  <style type="text/css">\n   h1 {font-size: 1em; font-weight: bold;}\n   th {text-align: left; padding: 0px 1em 0px 1em;}\n' +
      '   td {padding: 0px 1em 0px 1em;}\n   a {text-decoration: none;}\n  </style>\n';
  }
  body +=
    ` </head>\n <body>\n  <h1 id="title">Listing of ${htmlEscape(label)}</h1>\n  <table id="listing">\n   <tr id="heading">\n` +
    '    <th class="colname">Name</th>\n    <th class="colsize">Size</th>\n    <th class="coldate">Date</th>\n   </tr>\n';
  if (prefix) {
    body +=
      '   <tr id="parent" class="item">\n    <td class="colname"><a href="../">../</a></td>\n' +
      '    <td class="colsize">&nbsp;</td>\n    <td class="coldate">&nbsp;</td>\n   </tr>\n';
  }
  const cut = Array.from(prefix).length;
  for (const row of rows) {
    if (row.subdir === undefined) continue;
    const subdir = dropCodePoints(String(row.subdir), cut);
    body +=
      `   <tr class="item subdir">\n    <td class="colname"><a href="${quote(subdir)}">${htmlEscape(subdir)}</a></td>\n` +
      '    <td class="colsize">&nbsp;</td>\n    <td class="coldate">&nbsp;</td>\n   </tr>\n';
  }
  for (const row of rows) {
    if (row.name === undefined) continue;
    const name = dropCodePoints(String(row.name), cut);
    const types = String(row.content_type ?? '')
      .split('/')
      .map((t) => `type-${htmlEscape(t.toLowerCase())}`)
      .join(' ');
    const date = htmlEscape(String(row.last_modified ?? '')).split('.')[0]!.replaceAll('T', ' ');
    body +=
      `   <tr class="item ${types}">\n    <td class="colname"><a href="${quote(name)}">${htmlEscape(name)}</a></td>\n` +
      `    <td class="colsize">${humanReadable(Number(row.bytes ?? 0))}</td>\n    <td class="coldate">${date}</td>\n   </tr>\n`;
  }
  return `${body}  </table>\n </body>\n</html>\n`;
}
