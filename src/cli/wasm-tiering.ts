/**
 * undici parses HTTP answers with llhttp compiled to WebAssembly, and V8's dynamic tiering recompiles llhttp's
 * large parser function with TurboFan on a background thread once a few calls have run it: measured by perf,
 * 0.15-0.2 s of CPU in every command that talks to the drive API (a quarter of a small backup's CPU), for a
 * parser that here reads answer heads and small bodies only (drive reads bypass it: src/api/direct-read.ts).
 * Liftoff, V8's baseline compiler, has it ready in a few milliseconds. A budget this large keeps llhttp on
 * Liftoff in practice while leaving V8 free to optimise anything truly hot (unlike --liftoff-only, which also
 * forbids TurboFan where Liftoff cannot compile). Imported by the CLI's entry before any connection; a library
 * user's process keeps V8's defaults.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--wasm-tiering-budget=2000000000');
