/** Builds chunk tables for tests: id n is 32 bytes of value n; 0 is the all-zero range marker. */
export function table(...ids: number[]): Buffer {
  return Buffer.concat(ids.map((n) => Buffer.alloc(32, n)));
}

export function idHex(n: number): string {
  return Buffer.alloc(32, n).toString('hex');
}
