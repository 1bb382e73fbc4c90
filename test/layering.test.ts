// Dependencies point one way: compat → common (and acl, policy) → proxy and servers → middleware →
// cli, cluster and the public entry points. The client SDK (src/client, `sluice/client`) stands
// apart: it may use only src/compat and src/acl, so a client never loads the proxy, and src/cli
// may use it.
// This reads every import of src/ and servers/ (static, type-only, re-exports and dynamic) and
// fails on one against that direction.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');

interface Layer {
  name: string;
  rank: number;
  /** Folders (relative to the repo) whose files belong to this layer. */
  roots: string[];
}

const LAYERS: Layer[] = [
  { name: 'compat', rank: 0, roots: ['src/compat'] },
  // Swift's ACL formats, on compat alone: the client's ACL helpers use them without the rest of common.
  { name: 'acl', rank: 0.5, roots: ['src/acl'] },
  { name: 'common', rank: 1, roots: ['src/common', 'src/policy'] },
  { name: 'proxy', rank: 2, roots: ['src/proxy'] },
  // The storage servers sit beside the proxy: neither may import the other.
  { name: 'servers', rank: 2, roots: ['servers'] },
  { name: 'middleware', rank: 3, roots: ['src/middleware'] },
  { name: 'top', rank: 4, roots: ['src/cli', 'src/cluster', 'src/testing', 'src/index.ts'] },
  { name: 'client', rank: 1, roots: ['src/client'] },
];

/** Layers a layer may import besides lower-ranked ones, and (`only`) layers limited to a list. */
const EXTRA: Record<string, { also?: string[]; only?: string[] }> = {
  client: { only: ['compat', 'acl'] },
  top: { also: ['client'] },
};

export function layerOf(file: string): Layer | undefined {
  const rel = relative(ROOT, file).split('\\').join('/');
  return LAYERS.find((l) => l.roots.some((r) => rel === r || rel.startsWith(r + '/')));
}

/** The module specifiers a TypeScript file imports (static, type-only, re-exports, dynamic). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  const patterns = [/\b(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

/** Whether a module of layer `from` may import one of layer `to`. */
export function allowed(from: Layer, to: Layer): boolean {
  if (from.name === to.name) return true;
  const extra = EXTRA[from.name];
  if (extra?.only) return extra.only.includes(to.name);
  if (to.name === 'client') return extra?.also?.includes('client') ?? false;
  return to.rank < from.rank;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function violations(): string[] {
  const found: string[] = [];
  for (const file of [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'servers'))]) {
    const from = layerOf(file);
    if (!from) {
      found.push(`${relative(ROOT, file)} belongs to no layer (add its folder to LAYERS)`);
      continue;
    }
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      const to = layerOf(target) ?? layerOf(target + '.ts');
      if (!to) found.push(`${relative(ROOT, file)} imports ${spec}, outside every layer`);
      else if (!allowed(from, to)) found.push(`${relative(ROOT, file)} (${from.name}) imports ${spec} (${to.name})`);
    }
  }
  return found;
}

describe('layering', () => {
  it('finds the imports of every form', () => {
    const src = [
      "import { a } from '../proxy/x';",
      "import type { B } from './y';",
      "export { c } from '../../servers/z';",
      "import '../middleware/index';",
      "const m = await import('../cli/main');",
      "import {\n  d,\n  e,\n} from '../common/w';",
    ].join('\n');
    expect(importsOf(src).sort()).toEqual(['../../servers/z', '../cli/main', '../common/w', '../middleware/index', '../proxy/x', './y'].sort());
  });

  it('allows only imports that point down the layers', () => {
    const byName = (n: string) => LAYERS.find((l) => l.name === n)!;
    expect(allowed(byName('middleware'), byName('proxy'))).toBe(true);
    expect(allowed(byName('proxy'), byName('middleware'))).toBe(false);
    expect(allowed(byName('servers'), byName('proxy'))).toBe(false);
    expect(allowed(byName('proxy'), byName('servers'))).toBe(false);
    expect(allowed(byName('compat'), byName('common'))).toBe(false);
    expect(allowed(byName('common'), byName('compat'))).toBe(true);
    expect(allowed(byName('top'), byName('servers'))).toBe(true);
    expect(allowed(byName('client'), byName('compat'))).toBe(true);
    expect(allowed(byName('client'), byName('acl'))).toBe(true);
    expect(allowed(byName('acl'), byName('common'))).toBe(false);
    expect(allowed(byName('common'), byName('acl'))).toBe(true);
    for (const other of ['common', 'proxy', 'servers', 'middleware', 'top']) expect(allowed(byName('client'), byName(other)), other).toBe(false);
    expect(allowed(byName('top'), byName('client'))).toBe(true);
    for (const other of ['compat', 'common', 'proxy', 'servers', 'middleware']) expect(allowed(byName(other), byName('client')), other).toBe(false);
  });

  it('holds for every file of src/ and servers/', () => {
    expect(violations()).toEqual([]);
  });
});
