// SPDX-License-Identifier: Apache-2.0
// index.d.ts is written by hand: every method the addon puts on a class's prototype (and every
// static one) must be declared in that class's block, and every declared method must exist.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const sihlicon = require('..');

const declarations = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8');

// The members named in `export declare class <name> { ... }` (methods and properties).
function declaredMembers(name) {
  const start = declarations.indexOf(`export declare class ${name} `);
  assert.notEqual(start, -1, `index.d.ts declares class ${name}`);
  const open = declarations.indexOf('{', start);
  let depth = 0;
  let end = open;
  for (; end < declarations.length; end += 1) {
    if (declarations[end] === '{') depth += 1;
    if (declarations[end] === '}' && --depth === 0) break;
  }
  const body = declarations.slice(open + 1, end);
  const members = new Set();
  for (const match of body.matchAll(/^ {2}(?:static |readonly |private )*([A-Za-z_]\w*)\s*[(:<?]/gm)) {
    members.add(match[1]);
  }
  return members;
}

for (const name of ['Hub', 'ManualClock', 'Scheduler', 'ContentStore', 'HeatLedger', 'Settlement',
  'WorkerAgent', 'Server']) {
  test(`index.d.ts declares exactly the methods of ${name}`, () => {
    const cls = sihlicon[name];
    assert.equal(typeof cls, 'function', `sihlicon.${name} is exported`);
    const runtime = new Set([
      ...Object.getOwnPropertyNames(cls.prototype).filter((key) => key !== 'constructor'),
      ...Object.getOwnPropertyNames(cls).filter(
        (key) => !['length', 'name', 'prototype'].includes(key) && typeof cls[key] === 'function'),
    ]);
    const declared = declaredMembers(name);
    const missing = [...runtime].filter((key) => !declared.has(key));
    assert.deepEqual(missing, [], `${name}: methods missing from index.d.ts`);
    // Hub's service handles and directory are properties of each instance, not methods.
    const properties = new Set(['directory', 'scheduler', 'contentStore', 'heatLedger',
      'settlement', 'latestSchemaVersion']);
    const phantom = [...declared].filter(
      (key) => key !== 'constructor' && !runtime.has(key) && !properties.has(key));
    assert.deepEqual(phantom, [], `${name}: declared in index.d.ts but not in the addon`);
  });
}
