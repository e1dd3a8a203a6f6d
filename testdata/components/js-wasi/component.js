// js-wasi: each export touches one WASI feature componentize-js provides.

export function shout(s) {
  const loud = s.toUpperCase();
  console.log(`shout: ${loud}`);
  return loud;
}

export function nowMs() {
  return BigInt(Date.now());
}

export function randomU32() {
  const buf = new Uint32Array(1);
  crypto.getRandomValues(buf);
  return buf[0];
}

export function fail(msg) {
  // Not a result-returning function, so the throw becomes a trap.
  throw new Error(msg);
}

export function checkedDiv(a, b) {
  if (b === 0) {
    // In a function returning result<T, E>, a thrown value becomes the err payload.
    throw 'division by zero';
  }
  return Math.trunc(a / b);
}
