#!/usr/bin/env node
// jco.mjs runs the jco CLI (current or old) with the host's root preopened.
//
// jco 1.35's `embed --wit` (and `componentize --wit`) reads files through
// @bytecodealliance/preview2-shim, which since 0.26 starts with no preopens, so every
// path fails with "os error 44". Preopening "/" before the CLI loads fixes that.
//
// Usage: node jco.mjs [--old] JCO-ARGS...   (--old: jco 1.11.1, the "jco-old" alias)
// Environment: TAPEDECK_NPM_MODULES, the node_modules folder holding both.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { importPackage, npmModulesDir } from './npm-import.mjs';

let args = process.argv.slice(2);
let pkg = '@bytecodealliance/jco';
if (args[0] === '--old') {
  pkg = 'jco-old';
  args = args.slice(1);
}

const fs = await importPackage('@bytecodealliance/preview2-shim', './filesystem');
fs._setPreopens({ '/': '/' });

const binPaths = { '@bytecodealliance/jco': 'dist/jco.js', 'jco-old': 'src/jco.js' };
const cli = path.join(npmModulesDir(), pkg, binPaths[pkg]);
process.argv = [process.argv[0], cli, ...args];
await import(pathToFileURL(cli).href);
