// js-alltypes: echoes every WIT value type back, so a host can check that lifting and
// lowering round-trip, and exercises an exported resource and a custom host import.
import { log, addOne } from 'tapedeck:test/host@0.1.0';

class Counter {
  #value;
  constructor(start) {
    this.#value = start;
  }
  inc() {
    this.#value = (this.#value + 1) >>> 0;
    return this.#value;
  }
  value() {
    return this.#value;
  }
  static merge(a, b) {
    return new Counter((a.value() + b.value()) >>> 0);
  }
}

const echo = (v) => v;

// componentize-js passes a result argument as {tag, val}; a result-returning export
// returns its ok payload and throws its err payload.
function echoResult(v) {
  if (v.tag === 'err') throw v.val;
  return v.val;
}

function describe(v) {
  if (v === undefined) return 'none';
  if (typeof v === 'bigint') return `${v}n`;
  if (ArrayBuffer.isView(v)) return `bytes[${Array.from(v).join(',')}]`;
  return JSON.stringify(v);
}

export const types = {
  Counter,
  echoBool: echo,
  echoS8: echo,
  echoS16: echo,
  echoS32: echo,
  echoS64: echo,
  echoU8: echo,
  echoU16: echo,
  echoU32: echo,
  echoU64: echo,
  echoF32: echo,
  echoF64: echo,
  echoChar: echo,
  echoString: echo,
  echoBytes: echo,
  echoListU32: echo,
  echoListString: echo,
  echoPoint: echo,
  echoPerson: echo,
  echoTuple: echo,
  echoShape: echo,
  echoSignal: echo,
  echoColor: echo,
  echoPerms: echo,
  echoMidFlags: echo,
  echoWideFlags: echo,
  echoOptionU32: echo,
  echoOptionOption: echo,
  echoResult,
  echoResultOkOnly: echoResult,
  echoResultErrOnly: echoResult,
  echoResultEmpty: echoResult,
  echoListPoint: echo,
  echoListOption: echo,
  sum16(...args) {
    return args.reduce((sum, v) => sum + BigInt(v), 0n);
  },
  sum17(...args) {
    return args.reduce((sum, v) => sum + BigInt(v), 0n);
  },
  describeMany(...args) {
    return args.map(describe).join(' ');
  },
  bigResult(seed) {
    const list = [];
    for (let i = 0; i < seed % 8; i++) list.push((seed + i) >>> 0);
    return [
      BigInt(seed) * 1000000007n,
      `seed-${seed}`,
      list,
      { x: seed | 0, y: -(seed | 0) },
      seed % 2 === 0 ? seed / 2 : undefined,
    ];
  },
  makeCounter(start) {
    return new Counter(start);
  },
  counterValue(c) {
    return c.value();
  },
  consumeCounter(c) {
    return c.value();
  },
};

export function callHost(x, msg) {
  log(msg);
  return addOne(x);
}
