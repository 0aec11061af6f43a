import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { loadGroupSkills, loadSkill } from '../../src/config/skills.js';
import { makeHome } from '../helpers/harness.js';

test('the shipped skills load with their descriptions and tools', () => {
  const home = makeHome({ groups: { g: 'chats: [local:g]\nskills: [reminders, notes, web-research]\ntools: [send_message, schedule_task, list_tasks, cancel_task, web_fetch]\nwebAllowlist: [en.wikipedia.org]\n' } });
  try {
    const group = loadConfig(home, {}).groups.get('g')!;
    assert.deepEqual(group.skillFiles.map((s) => s.name), ['reminders', 'notes', 'web-research']);
    assert.deepEqual(group.skillFiles.find((s) => s.name === 'web-research')!.tools, ['web_fetch']);
    assert.ok(group.skillFiles.every((s) => s.description.length > 20));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('a skill needing a tool the group has not enabled is refused at load, naming the fix', () => {
  const home = makeHome({ groups: { g: 'chats: [local:g]\nskills: [web-research]\n' } });
  try {
    assert.throws(
      () => loadConfig(home, {}),
      (err: unknown) =>
        err instanceof ConfigError && err.file.endsWith(join('groups', 'g', 'group.yaml')) && /needs the tool web_fetch/.test(err.problem) && /add web_fetch to tools/.test(err.fix),
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('unknown skills, missing frontmatter, a wrong name and unknown tools are clear errors', () => {
  const root = mkdtempSync(join(tmpdir(), 'enc-skills-'));
  try {
    const write = (name: string, text: string) => {
      mkdirSync(join(root, name), { recursive: true });
      writeFileSync(join(root, name, 'SKILL.md'), text);
    };
    write('plain', 'no frontmatter here\n');
    write('renamed', '---\nname: other\ndescription: d\n---\nbody\n');
    write('greedy', '---\nname: greedy\ndescription: d\ntools: [launch_missiles]\n---\n');
    assert.throws(() => loadGroupSkills([root], '/g/group.yaml', ['absent'], []), /skill "absent" was not found/);
    assert.throws(() => loadSkill([root], 'plain'), /does not start with YAML frontmatter/);
    assert.throws(() => loadSkill([root], 'renamed'), /differs from the folder name/);
    assert.throws(() => loadSkill([root], 'greedy'), /unknown tool "launch_missiles"/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
