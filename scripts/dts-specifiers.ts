/**
 * Adds file extensions to the relative import specifiers of emitted declaration files.
 * The sources import extensionless (`./config`, moduleResolution bundler), and tsc copies the
 * specifiers into the .d.ts files as written; a consumer's `moduleResolution: nodenext` resolves
 * relative specifiers in an ESM package only with the extension (`./config.js`, `./x/index.js`),
 * and otherwise silently types what they name as `any` (or errors without skipLibCheck).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** `from '…'`, `import '…'`, `import('…')` and `export … from '…'` with a relative specifier. */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]*|\.\.?)\2/g;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The specifier with the extension nodenext needs, or undefined if it names no declaration file. */
export function withExtension(fromFile: string, specifier: string): string | undefined {
  if (/\.(m|c)?js$/.test(specifier)) return specifier;
  const base = join(dirname(fromFile), specifier);
  if (isFile(`${base}.d.ts`)) return `${specifier}.js`;
  if (isFile(join(base, 'index.d.ts'))) return `${specifier.replace(/\/$/, '')}/index.js`;
  return undefined;
}

/** Rewrites one declaration file's text; throws on a relative specifier that names no file. */
export function fixSpecifiers(file: string, text: string): string {
  return text
    .split('\n')
    .map((line) => {
      // tsc keeps doc comments, and their examples may quote import lines.
      const trimmed = line.trimStart();
      if (trimmed.startsWith('*') || trimmed.startsWith('/*') || trimmed.startsWith('//')) return line;
      return line.replace(SPECIFIER, (whole, lead: string, quote: string, spec: string) => {
        const fixed = withExtension(file, spec);
        if (fixed === undefined) throw new Error(`${file}: '${spec}' names no declaration file`);
        return `${lead}${quote}${fixed}${quote}`;
      });
    })
    .join('\n');
}

/** Fixes every .d.ts file under `dir` in place. */
export function fixDeclarationTree(dir: string): void {
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!name.endsWith('.d.ts')) continue;
    const file = join(dir, name);
    const text = readFileSync(file, 'utf8');
    const fixed = fixSpecifiers(file, text);
    if (fixed !== text) writeFileSync(file, fixed);
  }
}
