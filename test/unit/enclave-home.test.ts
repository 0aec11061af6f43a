import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { enclaveHome, homePaths, legacyHomeNotice, packageRoot } from '../../src/paths.js';

test('ENCLAVE_HOME wins; otherwise the home is ~/.enclave, outside the source tree', () => {
  assert.equal(enclaveHome({ ENCLAVE_HOME: '/srv/enclave' }, '/home/me'), '/srv/enclave');
  const checkoutHasData = enclaveHome({}, '/home/me') === packageRoot();
  if (!checkoutHasData) assert.equal(enclaveHome({}, '/home/me'), '/home/me/.enclave');
  assert.equal(legacyHomeNotice('/home/me/.enclave', {}, '/home/me'), undefined, 'nothing to say for the new default');
});

test('a checkout that already holds data keeps being used, and the start says how to move it', (t) => {
  const dbFile = homePaths(packageRoot()).dbFile;
  let planted = false;
  try {
    mkdirSync(join(packageRoot(), 'data'), { recursive: true });
    writeFileSync(dbFile, '', { flag: 'wx' });
    planted = true;
  } catch {
    // a developer's own data is there already: the same rule applies to it
  }
  t.after(() => planted && rmSync(dbFile));
  const user = mkdtempSync(join(tmpdir(), 'enc-user-'));
  t.after(() => rmSync(user, { recursive: true, force: true }));
  assert.equal(enclaveHome({}, user), packageRoot());
  const notice = legacyHomeNotice(packageRoot(), {}, user) ?? assert.fail('a notice');
  assert.match(notice, /old default/);
  assert.ok(notice.includes(join(user, '.enclave')), notice);
  assert.equal(legacyHomeNotice(packageRoot(), { ENCLAVE_HOME: packageRoot() }, user), undefined, 'chosen on purpose: no notice');
});
