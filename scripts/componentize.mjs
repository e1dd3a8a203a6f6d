#!/usr/bin/env node
// componentize.mjs builds a WebAssembly Component from a JavaScript module with
// componentize-js's API (jco 1.35's own `componentize --wit` cannot read files: its
// bundled WASI shim has no "/" preopen).
//
// Usage: node componentize.mjs SOURCE.js WIT_PATH WORLD OUT.wasm [--disable f1,f2,...]
//
// TAPEDECK_NPM_MODULES names the node_modules folder holding componentize-js
// (scripts/build-components.sh installs it under build/ and sets the variable).
import { writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { importPackage } from './npm-import.mjs';

function usage(msg) {
  console.error(`componentize: ${msg}`);
  console.error('usage: node componentize.mjs SOURCE.js WIT_PATH WORLD OUT.wasm [--disable f1,f2,...]');
  process.exit(2);
}

const args = process.argv.slice(2);
let disableFeatures = [];
const disableAt = args.indexOf('--disable');
if (disableAt >= 0) {
  const list = args[disableAt + 1];
  if (list === undefined) usage('--disable needs a comma-separated list');
  disableFeatures = list.split(',').filter(Boolean);
  args.splice(disableAt, 2);
}
if (args.length !== 4) usage(`want 4 positional arguments, got ${args.length}`);
const [sourcePath, witPath, worldName, outPath] = args.map((a, i) => (i === 2 ? a : path.resolve(a)));

// componentize-js reads the WIT through preview2-shim's WASI filesystem, which since
// 0.26 starts with no preopens; give it the host's root so absolute paths resolve.
const fs = await importPackage('@bytecodealliance/preview2-shim', './filesystem');
fs._setPreopens({ '/': '/' });
const { componentize } = await importPackage('@bytecodealliance/componentize-js');

let result;
try {
  result = await componentize({ sourcePath, witPath, worldName, disableFeatures });
} catch (err) {
  console.error(`componentize: ${sourcePath} (world ${worldName}): ${err.stack || err}`);
  process.exit(1);
}
// Write beside the target and rename, so a failed or interrupted build never leaves a
// truncated component where the tests would find it.
const tmp = `${outPath}.tmp-${process.pid}`;
await writeFile(tmp, result.component);
await rename(tmp, outPath);
