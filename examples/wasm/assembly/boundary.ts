// The cost of crossing between JavaScript and WebAssembly, measured by bench/wasm.ts.

// @ts-ignore: decorator
@external("env", "nop") declare function nop(x: i32): i32;

/** Calls the imported JS function nop n times (wasm -> JS). */
export function callImport(n: i32): i32 {
  let s = 0;
  for (let i = 0; i < n; i++) s += nop(i);
  return s;
}

/** The same loop with the call inlined away (the loop's own cost). */
export function callNone(n: i32): i32 {
  let s = 0;
  for (let i = 0; i < n; i++) s += i;
  return s;
}

/** Returns its argument (JS -> wasm calls). */
export function id(x: i32): i32 {
  return x;
}
