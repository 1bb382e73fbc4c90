/** scripts/dts-specifiers.ts: relative specifiers in emitted .d.ts files get what nodenext needs. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixDeclarationTree, fixSpecifiers } from '../../scripts/dts-specifiers';

describe('fixSpecifiers', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-dts-'));
    mkdirSync(join(dir, 'proxy', 'ctl'), { recursive: true });
    for (const f of ['proxy/config.d.ts', 'proxy/ctl/index.d.ts', 'index.d.ts', 'server.d.ts']) writeFileSync(join(dir, f), '');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds .js to files and /index.js to directories, in every import and export form', () => {
    const file = join(dir, 'proxy', 'server.d.ts');
    const text = [
      "import { type Section } from './config';",
      'import type { X } from "./ctl";',
      "export * from '../server';",
      "export { a } from '..';",
      "import './config';",
      'export declare const f: import("./config").Section;',
      "import { Hono } from 'hono';",
      "import { readFile } from 'node:fs/promises';",
      "export { b } from './config.js';",
    ].join('\n');
    expect(fixSpecifiers(file, text).split('\n')).toEqual([
      "import { type Section } from './config.js';",
      'import type { X } from "./ctl/index.js";',
      "export * from '../server.js';",
      "export { a } from '../index.js';",
      "import './config.js';",
      'export declare const f: import("./config.js").Section;',
      "import { Hono } from 'hono';",
      "import { readFile } from 'node:fs/promises';",
      "export { b } from './config.js';",
    ]);
  });

  it('leaves doc comments alone, and refuses a specifier that names no declaration file', () => {
    const file = join(dir, 'proxy', 'server.d.ts');
    const comment = "/**\n * e.g. `import { x } from './nowhere'`\n */\n// from './nowhere'\n";
    expect(fixSpecifiers(file, comment)).toBe(comment);
    expect(() => fixSpecifiers(file, "export * from './nowhere';")).toThrow(/'\.\/nowhere' names no declaration file/);
  });

  it('rewrites a whole tree in place', () => {
    writeFileSync(join(dir, 'index.d.ts'), "export * from './proxy/config';\n");
    fixDeclarationTree(dir);
    expect(readFileSync(join(dir, 'index.d.ts'), 'utf8')).toBe("export * from './proxy/config.js';\n");
  });
});
