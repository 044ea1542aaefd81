import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The portal (and later the admin console) is served by the express app under /portal/; the
// first-run tour at / is the same build (its own chunk, loaded only there).
export default defineConfig({
  root: import.meta.dirname,
  base: '/portal/',
  plugins: [react()],
  build: { outDir: '../dist/web', emptyOutDir: true, sourcemap: false },
});
