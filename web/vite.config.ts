import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// `npm run dev` proxies the API to a server started separately (integr8scode serve).
const apiTarget = process.env.INTEGR8SCODE_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [svelte()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Fonts are small woff2 files; keep them as files so they cache separately.
    assetsInlineLimit: 0,
    rollupOptions: {
      output: {
        manualChunks(id) {
          // CodeMirror's core in one chunk, each language grammar in its own (loaded when
          // a runtime with that editor mode is picked).
          for (const lang of ['python', 'javascript', 'cpp']) {
            if (id.includes(`node_modules/@codemirror/lang-${lang}/`) || id.includes(`node_modules/@lezer/${lang}/`)) {
              return `lang-${lang}`;
            }
          }
          if (id.includes('node_modules/@codemirror/legacy-modes/')) return 'lang-shell';
          if (id.includes('node_modules/@codemirror/') || id.includes('node_modules/@lezer/')
            || id.includes('node_modules/style-mod') || id.includes('node_modules/w3c-keyname')
            || id.includes('node_modules/crelt')) {
            return 'cm-core';
          }
          return undefined;
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
      '/docs': { target: apiTarget, changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
});
