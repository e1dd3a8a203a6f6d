// npm-import.mjs loads an npm package from the node_modules folder named by
// TAPEDECK_NPM_MODULES, so scripts kept in the source tree can use tools installed
// under build/ (ES modules ignore NODE_PATH).
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

export function npmModulesDir() {
  const dir = process.env.TAPEDECK_NPM_MODULES;
  if (!dir) {
    throw new Error('TAPEDECK_NPM_MODULES is not set: run `make testdata` (it installs the npm tools under build/npm)');
  }
  return dir;
}

// importPackage imports a package's ES module entry point (its "exports" import or
// default target, else "main").
export async function importPackage(name, subpath = '.') {
  const pkgDir = path.join(npmModulesDir(), name);
  const pkg = JSON.parse(await readFile(path.join(pkgDir, 'package.json'), 'utf8'));
  const target = exportTarget(pkg, subpath);
  if (!target) throw new Error(`${name}: no ES module entry point for "${subpath}"`);
  return import(pathToFileURL(path.join(pkgDir, target)).href);
}

function exportTarget(pkg, subpath) {
  let exp = pkg.exports;
  if (exp === undefined) return subpath === '.' ? pkg.main || 'index.js' : subpath;
  if (typeof exp === 'string') return subpath === '.' ? exp : undefined;
  // An exports map is either keyed by subpaths ("./x") or directly by conditions.
  if (Object.keys(exp).some((k) => k.startsWith('.'))) {
    if (subpath in exp) return pickCondition(exp[subpath]);
    // A single-star pattern such as "./*": substitute the matched part into the target.
    for (const [key, value] of Object.entries(exp)) {
      const star = key.indexOf('*');
      if (star < 0) continue;
      const [pre, post] = [key.slice(0, star), key.slice(star + 1)];
      if (subpath.startsWith(pre) && subpath.endsWith(post) && subpath.length >= key.length - 1) {
        const matched = subpath.slice(pre.length, subpath.length - post.length);
        const target = pickCondition(value);
        return target && target.replaceAll('*', matched);
      }
    }
    return undefined;
  }
  return subpath === '.' ? pickCondition(exp) : undefined;
}

function pickCondition(exp) {
  if (exp === undefined || exp === null) return undefined;
  if (typeof exp === 'string') return exp;
  if (Array.isArray(exp)) return exp.map(pickCondition).find(Boolean);
  for (const cond of ['node', 'import', 'default']) {
    if (cond in exp) {
      const t = pickCondition(exp[cond]);
      if (t) return t;
    }
  }
  return undefined;
}
