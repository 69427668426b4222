// Whether this page may compile WebAssembly. The replay player's terminal emulator is
// WebAssembly, which a Content-Security-Policy allows only with 'wasm-unsafe-eval' in
// script-src; without it the player shows a blank screen and fails in the browser's log, so the
// replay page checks first, before it even loads the player, and says what is missing.

// The smallest valid WebAssembly module: the magic number and version 1.
const kEmptyModule = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

export function canCompileWebAssembly(): boolean {
  try {
    new WebAssembly.Module(kEmptyModule);
    return true;
  } catch {
    return false;
  }
}
