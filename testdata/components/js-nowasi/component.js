// js-nowasi: plain computation, no console, clocks, randomness or network,
// so componentize-js can drop every WASI import.

export function greet(name) {
  return `Hello, ${name}!`;
}

export function add(a, b) {
  return (a + b) | 0;
}

export const text = {
  reverse(s) {
    return Array.from(s).reverse().join('');
  },
  length(s) {
    return Array.from(s).length;
  },
};
