#!/usr/bin/env node
// build-fixtures.mjs turns the hand-written fixtures (component text format) into
// binaries with jco's `parse`, and checks each against what its header promises:
//
//   ;; fixture: what it is for            (first line; more ";;" lines may follow)
//   ;; expect: valid                      wasm-tools must accept it (it prints its WIT)
//   ;; expect: invalid SUBSTRING          wasm-tools must reject it, with SUBSTRING in the error
//   ;; expect: core-module                a core module, not a component
//
// Usage: node build-fixtures.mjs SRC_DIR OUT_DIR
// Writes OUT_DIR/NAME.wasm, OUT_DIR/NAME.error (wasm-tools' rejection, for invalid ones)
// and OUT_DIR/index.json ([{name, expect, error?, description}]) for tests to iterate.
import { readdir, readFile, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { importPackage } from './npm-import.mjs';

const [srcDir, outDir] = process.argv.slice(2);
if (!srcDir || !outDir) {
  console.error('usage: node build-fixtures.mjs SRC_DIR OUT_DIR');
  process.exit(2);
}

const jco = await importPackage('@bytecodealliance/jco');

function header(text, file) {
  const comments = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(';;')) break;
    comments.push(line.slice(2).trim());
  }
  const expectLine = comments.find((l) => l.startsWith('expect:'));
  if (!comments[0]?.startsWith('fixture:') || !expectLine) {
    throw new Error(`${file}: must start with ";; fixture: ..." and have an ";; expect: ..." line`);
  }
  const description = comments
    .filter((l) => !l.startsWith('expect:'))
    .join(' ')
    .replace(/^fixture:\s*/, '');
  const [kind, ...rest] = expectLine.slice('expect:'.length).trim().split(' ');
  if (!['valid', 'invalid', 'core-module'].includes(kind)) {
    throw new Error(`${file}: expect must be valid, invalid or core-module, not "${kind}"`);
  }
  return { description, kind, substring: rest.join(' ') };
}

const problems = [];
const index = [];
const files = (await readdir(srcDir)).filter((f) => f.endsWith('.wat')).sort();
for (const file of files) {
  const name = file.slice(0, -'.wat'.length);
  const text = await readFile(path.join(srcDir, file), 'utf8');
  let meta, bytes;
  try {
    meta = header(text, file);
    bytes = await jco.parse(text);
  } catch (err) {
    problems.push(`${file}: ${err.message || err}`);
    continue;
  }
  const entry = { name, expect: meta.kind, description: meta.description };
  if (meta.kind === 'core-module') {
    if (bytes[4] !== 1 || bytes[6] !== 0) problems.push(`${file}: expected a core module`);
  } else {
    let error;
    try {
      await jco.componentWit(bytes);
    } catch (err) {
      error = String(err.message || err).replace(/^Failed to decode wit component\s*/, '').trim();
    }
    if (meta.kind === 'valid' && error) problems.push(`${file}: should be valid, but: ${error}`);
    if (meta.kind === 'invalid') {
      if (!error) problems.push(`${file}: should be rejected, but wasm-tools accepts it`);
      else if (!error.includes(meta.substring)) {
        problems.push(`${file}: rejected, but the error lacks "${meta.substring}": ${error}`);
      } else {
        entry.error = error;
      }
    }
  }
  await rm(path.join(outDir, `${name}.error`), { force: true });
  await writeFile(path.join(outDir, `${name}.wasm`), bytes);
  if (entry.error) await writeFile(path.join(outDir, `${name}.error`), `${entry.error}\n`);
  index.push(entry);
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
await writeFile(path.join(outDir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
