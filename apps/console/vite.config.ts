import { defineConfig } from 'vite';

// The console is served by the operations service under /console/; everything is bundled
// (no CDN). Preact's JSX runtime through Vite's own transform.
export default defineConfig({
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 200 },
});
