// Shared by the page and the workers: object patterns, sizes and a PRNG.
//
// Every object gets a pattern unique to it: its 32-bit id in the first 4 bytes (when it
// has 4), and (id & 255) ^ 0x5a in every other byte. An id is (context << 24) | counter.

/** xorshift32; returns a function giving the next unsigned 32-bit value. */
export function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; return (s >>>= 0); };
}

/** A size from the mix used everywhere: tiny, small, bigger small classes, large. */
export function mixedSize(rnd) {
  const r = rnd() % 1000;
  if (r < 250) return 1 + (rnd() % 15);        // tiny (when noscan)
  if (r < 900) return 16 + (rnd() % 512);      // small
  if (r < 995) return 512 + (rnd() % 32000);   // bigger small classes
  return 32769 + (rnd() % 100000);             // large
}

/** A size of at least 16 bytes (never tiny). */
export function nonTinySize(rnd) {
  const r = rnd() % 100;
  if (r < 70) return 16 + (rnd() % 600);
  if (r < 95) return 600 + (rnd() % 32000);
  return 32769 + (rnd() % 170000);
}

export function fill(u8, p, n, id) {
  u8.fill((id & 255) ^ 0x5a, p, p + n);
  if (n >= 4) { u8[p] = id & 255; u8[p + 1] = (id >>> 8) & 255; u8[p + 2] = (id >>> 16) & 255; u8[p + 3] = id >>> 24; }
}

/** null if the object at p still has its pattern, else a description of the first difference. */
export function verify(u8, p, n, id) {
  if (n >= 4) {
    const got = (u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24)) >>> 0;
    if (got !== id) return `object ${p} (size ${n}) has id ${got}, expected ${id}`;
  }
  const v = (id & 255) ^ 0x5a;
  for (let k = n >= 4 ? 4 : 0; k < n; k++) {
    if (u8[p + k] !== v) return `object ${p} (size ${n}, id ${id}) byte ${k} is ${u8[p + k]}, expected ${v}`;
  }
  return null;
}
