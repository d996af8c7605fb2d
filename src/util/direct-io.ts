/**
 * O_DIRECT's alignment: the memory, file offset and length of a direct write are multiples of it. 4096
 * covers devices with 512- and 4096-byte logical sectors. The aligned memory itself comes from the addon
 * (nativeDirectIo in src/codec/active.ts): Node's allocator gives no alignment.
 */
export const DIRECT_ALIGN = 4096;
