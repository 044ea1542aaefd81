import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The portal, the admin console and the first-run tour at / are one build, served by the express
// app (its assets under /portal/); the tour is its own chunk, loaded only there.
export default defineConfig({
  root: import.meta.dirname,
  base: '/portal/',
  plugins: [react()],
  build: { outDir: '../dist/web', emptyOutDir: true, sourcemap: false },
});
