// Build settings for the console. The gateway serves it under a strict Content-Security-Policy
// (script-src 'self'; style-src 'self'), so every script and style must be a file of its own.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  base: '/',
  // JSX through esbuild alone: Preact needs no Babel plugin for this.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    // The polyfill is an inline script, which the policy refuses; every browser the console
    // targets supports modulepreload natively.
    modulePreload: { polyfill: false },
    // A data: URL for a script or style would be refused, so nothing is inlined.
    assetsInlineLimit: 0,
    assetsDir: 'assets',
    target: 'es2022',
  },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
  },
});
