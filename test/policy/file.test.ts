/**
 * Policy files (JSON, or YAML read the way PyYAML reads it) and the Enforcer that keeps one in
 * force: reloading on change at most once per interval, keeping the last good rules when a new
 * version is bad, and saying why.
 */
import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Enforcer, parsePolicyText, PolicyError, type ReloadEvent } from '../../src/policy/index';

function fileError(text: string): PolicyError {
  try {
    parsePolicyText(text, 'policy.yaml');
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe('parsePolicyText', () => {
  it('reads JSON and YAML into rule names, values and lines', () => {
    const json = parsePolicyText('{"a": "role:x", "b": [["role:y"]]}', 'p.json');
    expect([...json.rules]).toEqual([
      ['a', { value: 'role:x', line: 1 }],
      ['b', { value: [['role:y']], line: 1 }],
    ]);
    const yaml = parsePolicyText('# comment\n"swift:object:get": "rule:a or role:x"\nadmin: role:admin\nempty: ""\n', 'p.yaml');
    expect([...yaml.rules]).toEqual([
      ['swift:object:get', { value: 'rule:a or role:x', line: 2 }],
      ['admin', { value: 'role:admin', line: 3 }],
      ['empty', { value: '', line: 4 }],
    ]);
    expect(yaml.issues).toEqual([]);
  });

  it("reads YAML 1.1 as PyYAML does: yes and on are booleans, y is a string; a tag it does not know is an error", () => {
    const rules = parsePolicyText('a: yes\nb: y\nc: Off\nd: ~\n', 'p.yaml').rules;
    expect([...rules.values()].map((r) => r.value)).toEqual([true, 'y', false, null]);
    expect(fileError('a: !custom role:x\n').message).toContain('policy.yaml:1: not loadable the way oslo.policy loads YAML: Unresolved tag: !custom');
  });

  it('reports a repeated name with both lines, and uses the last one as JSON and PyYAML do', () => {
    const read = parsePolicyText('a: role:x\nb: "@"\na: role:y\n', 'p.yaml');
    expect(read.rules.get('a')).toEqual({ value: 'role:y', line: 3 });
    expect(read.issues).toEqual([{ code: 'duplicate', rule: 'a', source: 'p.yaml', line: 3, message: 'rule "a" is defined again (first on line 1); the last one is used' }]);
    expect(parsePolicyText('{"a": "!", "a": "@"}', 'p.json').rules.get('a')!.value).toBe('@');
  });

  it('takes an empty document, {} or [] as no rules; anything else but a mapping cannot be loaded', () => {
    for (const text of ['', '\n# nothing\n', '{}', '[]', 'null']) expect(parsePolicyText(text, 'p').rules.size, JSON.stringify(text)).toBe(0);
    expect(fileError('- role:a\n').message).toContain('policy.yaml: expected a mapping of rule names to rules at the top, found a list');
    expect(fileError('"just text"').message).toContain('found string');
    expect(fileError('ok: "@"\nbad: x: y\n').message).toMatch(/^invalid policy: policy\.yaml:2: not valid YAML or JSON: .*\npolicy\.yaml:2: not valid YAML or JSON: /);
  });

  it('reads a file that starts with a byte-order mark', () => {
    expect(parsePolicyText('\ufeff{"a": "@"}', 'p.json').rules.get('a')!.value).toBe('@');
  });
});

describe('Enforcer', () => {
  let dir: string;
  let file: string;
  let now: number;
  let events: ReloadEvent[];
  let version = 0;
  const defaults = [
    { name: 'admin', check: 'role:admin', description: 'Administrators.' },
    { name: 'read', check: 'rule:admin or role:reader', description: 'Read.' },
  ];

  /** Writes the file with a new mtime (coarse file systems could otherwise keep the old one). */
  function write(text: string): void {
    writeFileSync(file, text);
    version++;
    utimesSync(file, 1_700_000_000 + version, 1_700_000_000 + version);
  }

  function enforcer(extra: Partial<ConstructorParameters<typeof Enforcer>[0]> = {}): Enforcer {
    return new Enforcer({ defaults, file, now: () => now, onReload: (e) => events.push(e), ...extra });
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-policy-'));
    file = join(dir, 'policy.yaml');
    now = 1_000_000;
    events = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('without a file, enforces the defaults', () => {
    const e = new Enforcer({ defaults });
    expect(e.enforce('read', {}, { roles: ['reader'] })).toBe(true);
    expect(e.enforce('read', {}, { roles: ['x'] })).toBe(false);
    expect(e.refresh()).toBe(false);
  });

  it('reads the file again when it changes, looking at most once per interval, without a restart', () => {
    write('read: role:auditor\n');
    const e = enforcer();
    expect(e.enforce('read', {}, { roles: ['auditor'] })).toBe(true);
    write('read: role:viewer\n');
    now += 999;
    expect(e.enforce('read', {}, { roles: ['auditor'] })).toBe(true);
    now += 1;
    expect(e.enforce('read', {}, { roles: ['auditor'] })).toBe(false);
    expect(e.enforce('read', {}, { roles: ['viewer'] })).toBe(true);
    expect(events).toEqual([{ ok: true, file, issues: [] }]);
    // Nothing changed: nothing is read again.
    now += 5000;
    expect(e.enforce('read', {}, { roles: ['viewer'] })).toBe(true);
    expect(events).toHaveLength(1);
  });

  it('keeps the last good rules when the file turns bad, reports it once, and takes the next good version', () => {
    write('read: role:auditor\n');
    const e = enforcer();
    write('read: "role:auditor or"\n');
    now += 1000;
    expect(e.enforce('read', {}, { roles: ['auditor'] })).toBe(true);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ok: false, file });
    expect(e.lastError?.message).toContain(`${file}:1: rule "read", column 16: the rule ends after "or"`);
    now += 1000;
    e.enforce('read', {}, {});
    expect(events).toHaveLength(1);

    write('read: role:viewer\n');
    now += 1000;
    expect(e.enforce('read', {}, { roles: ['viewer'] })).toBe(true);
    expect(e.lastError).toBeUndefined();
    expect(events.map((x) => x.ok)).toEqual([false, true]);
  });

  it('keeps the rules in force when the file is removed, and says so', () => {
    write('read: role:auditor\n');
    const e = enforcer();
    unlinkSync(file);
    expect(e.refresh()).toBe(false);
    expect(e.enforce('read', {}, { roles: ['auditor'] })).toBe(true);
    expect(e.lastError?.message).toContain('the policy file is gone; the rules loaded before stay in force');
  });

  it('refuses to start on a missing, unreadable or invalid file; the compatible mode starts on the defaults without one', () => {
    expect(() => enforcer()).toThrow(`${file}: cannot read the policy file: ENOENT`);
    writeFileSync(file, Buffer.from([0x61, 0x3a, 0x20, 0xff, 0x0a]));
    expect(() => enforcer()).toThrow(`${file}: cannot read the policy file: not UTF-8`);
    write('read: rule:nope\n');
    expect(() => enforcer()).toThrow(`${file}:1: rule "read", column 6: rule:nope refers to no rule`);

    unlinkSync(file);
    const e = enforcer({ mode: 'compatible' });
    expect(e.enforce('read', {}, { roles: ['reader'] })).toBe(true);
    write('read: role:auditor\n');
    now += 1000;
    expect(e.enforce('read', {}, { roles: ['auditor'] })).toBe(true);
  });

  it('explains with the rules in force', () => {
    write('read: role:auditor\n');
    const d = enforcer().explain('read', {}, { roles: [] });
    expect(d.trace.map((t) => [t.rule, t.result, t.detail])).toEqual([['read', false, 'the roles do not include "auditor"']]);
  });
});
