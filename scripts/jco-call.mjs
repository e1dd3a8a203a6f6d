#!/usr/bin/env node
// jco-call.mjs is the reference host for differential tests and benchmarks: it runs a
// component that `jco transpile` turned into JavaScript (scripts/build-components.sh
// leaves one per component in OUTDIR/transpiled/NAME/) in V8, with
// @bytecodealliance/preview2-shim for WASI and a JavaScript tapedeck:test/host.
//
// Usage:
//   node jco-call.mjs [OPTIONS] DIR FN [ARG_JSON...]           one call; prints one JSON line
//   node jco-call.mjs [OPTIONS] DIR --serve                    JSON lines on stdin, one answer each
//   node jco-call.mjs [OPTIONS] DIR --bench N FN [ARG_JSON...] N calls; prints {"n":N,"ns_per_op":…}
// OPTIONS: --dir PATH (repeatable) preopens a host folder under the same path; --env KEY=VALUE
// (repeatable) sets an environment variable. Without them the guest sees no files and an
// empty environment, like the sandbox's deny-all defaults.
//
// FN names a function as WIT does: "greet" (a world export), "IFACE#FN" where IFACE is
// the interface's full name ("tapedeck:test/types@0.1.0") or its short name ("types"),
// and for resources "IFACE#[constructor]counter", "IFACE#[method]counter.inc" (the
// first argument is the handle), "IFACE#[static]counter.merge" and
// "IFACE#[resource-drop]counter".
//
// In --serve mode each input line is {"fn": FN, "args": [...]} and each answer is
// {"result": …} or {"error": {"kind": …, "message": …}}; handles live across lines.
// A trap poisons the instance, as the Component Model says: the next call gets a fresh
// instance, and the handles into the old one are gone. A command's "wasi:cli/run#run"
// that calls exit answers {"error": {"kind": "exit", "code": N, …}}.
// Answers of every mode: {"result": V, "log": [...]} (log: tapedeck:test/host log
// calls, when there were any) or {"error": {"kind": "err", "payload": P}} when a
// result-returning function returned err, {"error": {"kind": "trap"|"usage",
// "message": M}} otherwise. The one-shot mode exits 1 on an error.
//
// WIT values as JSON (jco's JavaScript conventions, made JSON):
//   bool, u8..u32, s8..s32, f32, f64   numbers and booleans as they are; jco wraps
//                                      out-of-range integers (u32: v >>> 0), it does not trap
//   u64, s64                           in: a number or a decimal string; out: a JSON number
//                                      with every digit (parse it with json.Number)
//   char, string                       strings
//   list<T>                            arrays (list<u8> and other numeric lists come back
//                                      from jco as typed arrays and are printed as arrays)
//   record                             objects with camelCase field names
//   tuple<…>                           arrays
//   variant                            {"tag": "case-name", "val": payload} (no val if none)
//   enum                               the case name as a string
//   option<T>                          null for none, else the value; but when T is itself
//                                      an option the outer level is {"tag": "none"} or
//                                      {"tag": "some", "val": inner} (inner: null or the value)
//   result<T, E> as an argument        {"tag": "ok", "val": v} / {"tag": "err", "val": e}
//   result<T, E> returned at top level ok: the value itself; err: the "err" error above
//   result<T, E> nested in a value     {"tag": "ok"|"err", "val": v}
//   flags                              an object of booleans keyed by camelCase flag name
//   own<R> / borrow<R>                 {"$handle": N}: returned resources get a number;
//                                      pass it back to use the same object
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { importPackage } from './npm-import.mjs';

function usage(message) {
  console.error(`jco-call: ${message}`);
  console.error('usage: node jco-call.mjs DIR FN [ARG_JSON...] | DIR --serve | DIR --bench N FN [ARG_JSON...]');
  process.exit(2);
}

const argv = process.argv.slice(2);
const preopens = {};
const guestEnv = {};
while (argv[0] === '--dir' || argv[0] === '--env') {
  const [flag, value] = argv.splice(0, 2);
  if (value === undefined) usage(`${flag} needs a value`);
  if (flag === '--dir') {
    const abs = path.resolve(value);
    preopens[abs] = abs;
  } else {
    const eq = value.indexOf('=');
    if (eq <= 0) usage(`--env wants KEY=VALUE, not ${value}`);
    guestEnv[value.slice(0, eq)] = value.slice(eq + 1);
  }
}
if (argv.length < 2) usage('need a transpiled component folder and a function or mode');
const dir = path.resolve(argv[0]);

// The npm tools live beside the components: OUTDIR/../npm (see build-components.sh).
process.env.TAPEDECK_NPM_MODULES ||= path.resolve(dir, '../../../npm/node_modules');

const { WASIShim } = await importPackage('@bytecodealliance/preview2-shim', './instantiation');
const cli = await importPackage('@bytecodealliance/preview2-shim', './cli');
const fs = await importPackage('@bytecodealliance/preview2-shim', './filesystem');

// Like the sandbox's deny-all defaults: nothing but what the options grant. The guest's
// stdout goes to our stderr, keeping stdout for the JSON answers.
cli._setEnv(guestEnv);
cli._setArgs([]);
cli._setStdout(cli.stderr.getStderr());
fs._setPreopens(preopens);

// The JavaScript side of tapedeck:test/host (js-alltypes imports it).
let hostLog = [];
const host = {
  log(msg) {
    hostLog.push(msg);
  },
  addOne(x) {
    return (x + 1) >>> 0;
  },
};

// GuestExit is how wasi:cli/exit ends a call here: preview2-shim's own exit would end
// node, and with it the --serve session.
class GuestExit extends Error {
  constructor(code) {
    super(`the guest called exit(${code})`);
    this.code = code;
  }
}

const exit = {
  exit(status) {
    throw new GuestExit(status.tag === 'err' ? 1 : 0);
  },
  exitWithCode(code) {
    throw new GuestExit(code);
  },
};

async function load() {
  const name = path.basename(dir);
  const entry = path.join(dir, `${name}.js`);
  const mod = await import(pathToFileURL(entry).href);
  const imports = { ...new WASIShim().getImportObject(), 'wasi:cli/exit': exit, 'tapedeck:test/host': host };
  const getCoreModule = async (file) => WebAssembly.compile(await readFile(path.join(dir, file)));
  return mod.instantiate(getCoreModule, imports);
}

const camel = (kebab) => kebab.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
const pascal = (kebab) => camel(kebab).replace(/^[a-z]/, (c) => c.toUpperCase());

// Resources cross the JSON boundary as numbered handles.
const handles = new Map();
let nextHandle = 1;

function resolve(root, fn) {
  const hash = fn.lastIndexOf('#');
  let scope = root;
  let item = fn;
  if (hash >= 0) {
    const iface = fn.slice(0, hash);
    item = fn.slice(hash + 1);
    const short = iface.replace(/^.*\//, '').replace(/@.*$/, '');
    scope = root[iface] ?? root[camel(short)];
    if (!scope) throw usageError(`no exported interface ${iface}`);
  }
  const special = /^\[(constructor|method|static|resource-drop)\]([a-z0-9-]+)(?:\.([a-z0-9-]+))?$/.exec(item);
  if (!special) {
    const f = scope[camel(item)];
    if (typeof f !== 'function') throw usageError(`no exported function ${fn}`);
    return (args) => f(...args);
  }
  const [, kind, resource, method] = special;
  const cls = scope[pascal(resource)];
  if (typeof cls !== 'function') throw usageError(`no exported resource ${resource} in ${fn}`);
  switch (kind) {
    case 'constructor':
      return (args) => new cls(...args);
    case 'static':
      return (args) => cls[camel(method)](...args);
    case 'method':
      return ([self, ...args]) => {
        if (!(self instanceof cls)) throw usageError(`${fn}: the first argument must be a ${resource} handle`);
        return self[camel(method)](...args);
      };
    default: // resource-drop
      return ([self]) => {
        const dispose = self?.[Symbol.dispose] ?? self?.[Symbol.for('dispose')];
        if (typeof dispose === 'function') dispose.call(self);
        for (const [id, obj] of handles) if (obj === self) handles.delete(id);
      };
  }
}

function usageError(message) {
  const err = new Error(message);
  err.usage = true;
  return err;
}

// fromJSON turns {"$handle": N} back into the resource object it names.
function fromJSON(v) {
  if (Array.isArray(v)) return v.map(fromJSON);
  if (v && typeof v === 'object') {
    if ('$handle' in v) {
      const obj = handles.get(v.$handle);
      if (!obj) throw usageError(`unknown handle ${v.$handle}`);
      return obj;
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromJSON(x)]));
  }
  return v;
}

// toJSON writes a JS value as JSON text: BigInts with all their digits, typed arrays as
// arrays, undefined as null, class instances (resources) as handles.
function toJSON(v) {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    // JSON has no NaN or infinities; name them as strings so a test can compare them.
    return Number.isFinite(v) ? JSON.stringify(v) : JSON.stringify(String(v));
  }
  if (typeof v !== 'object') return JSON.stringify(v);
  if (ArrayBuffer.isView(v)) return toJSON(Array.from(v));
  if (Array.isArray(v)) return `[${v.map(toJSON).join(',')}]`;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    for (const [id, obj] of handles) if (obj === v) return `{"$handle":${id}}`;
    const id = nextHandle++;
    handles.set(id, v);
    return `{"$handle":${id}}`;
  }
  return `{${Object.entries(v)
    .map(([k, x]) => `${JSON.stringify(k)}:${toJSON(x)}`)
    .join(',')}}`;
}

function errorJSON(err) {
  if (err?.usage) return { kind: 'usage', message: err.message };
  // jco throws a ComponentError carrying the payload when a result-returning export returns err.
  if (err && err.constructor?.name === 'ComponentError' && 'payload' in err) {
    return { kind: 'err', payload: err.payload };
  }
  if (err instanceof WebAssembly.RuntimeError) return { kind: 'trap', message: err.message };
  if (err instanceof GuestExit) return { kind: 'exit', code: err.code, message: err.message };
  // Anything else was thrown by jco's JavaScript glue before the guest ran: almost always
  // an argument that does not fit the parameter's type.
  return { kind: 'argument', message: String(err?.message ?? err) };
}

// instance is the live component; a trap poisons it (as the Component Model says), so
// callOnce then loads a fresh one, and the handles into the old one are forgotten.
let instance;

async function callOnce(fn, args) {
  hostLog = [];
  try {
    const result = await resolve(instance, fn)(fromJSON(args));
    const log = hostLog.length ? `,"log":${toJSON(hostLog)}` : '';
    return { ok: true, line: `{"result":${toJSON(result)}${log}}` };
  } catch (err) {
    const e = errorJSON(err);
    if (e.kind === 'trap' || e.kind === 'exit') {
      handles.clear();
      instance = await load();
    }
    const body = e.kind === 'err' ? `{"kind":"err","payload":${toJSON(e.payload)}}` : JSON.stringify(e);
    // exit(0) is how a command succeeds: the one-shot mode then exits 0 too.
    return { ok: e.kind === 'exit' && e.code === 0, line: `{"error":${body}}` };
  }
}

function parseArgs(list) {
  return list.map((a, i) => {
    try {
      return JSON.parse(a);
    } catch (err) {
      usage(`argument ${i + 1} is not JSON (${err.message}): ${a}`);
    }
  });
}

instance = await load();

if (argv[1] === '--serve') {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ error: { kind: 'usage', message: `not JSON: ${err.message}` } })}\n`);
      continue;
    }
    if (typeof req.fn !== 'string' || (req.args !== undefined && !Array.isArray(req.args))) {
      process.stdout.write(`${JSON.stringify({ error: { kind: 'usage', message: 'want {"fn": string, "args": [...]}' } })}\n`);
      continue;
    }
    const { line: answer } = await callOnce(req.fn, req.args ?? []);
    process.stdout.write(`${answer}\n`);
  }
} else if (argv[1] === '--bench') {
  const n = Number(argv[2]);
  if (!Number.isInteger(n) || n <= 0) usage('--bench needs a positive call count');
  if (!argv[3]) usage('--bench needs a function');
  const call = resolve(instance, argv[3]);
  const args = fromJSON(parseArgs(argv.slice(4)));
  call(args); // warm up once outside the timing
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) call(args);
  const ns = Number(process.hrtime.bigint() - start);
  process.stdout.write(`${JSON.stringify({ fn: argv[3], n, ns_per_op: Math.round(ns / n) })}\n`);
} else {
  const { ok, line } = await callOnce(argv[1], parseArgs(argv.slice(2)));
  process.stdout.write(`${line}\n`);
  process.exitCode = ok ? 0 : 1;
}
