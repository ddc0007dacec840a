// After `vite build`: adds the API reference page (Redoc, served locally, no CDN) under
// dist/docs/, and prints the gzipped size of the JavaScript the first page load needs.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);

// --- API reference page -------------------------------------------------------------------
const docs = join(dist, 'docs');
mkdirSync(docs, { recursive: true });
const redocDir = dirname(require.resolve('redoc/package.json'));
// Redoc shows a "by Redocly" logo fetched from its CDN, which the Content-Security-Policy
// blocks (and which would tell a third party who reads these docs): use our own icon.
const kRemoteLogo = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const redocBundle = readFileSync(join(redocDir, 'bundles', 'redoc.standalone.js'), 'utf8');
if (!redocBundle.includes(kRemoteLogo)) console.warn(`postbuild: Redoc no longer loads ${kRemoteLogo}; check for other remote assets`);
writeFileSync(join(docs, 'redoc.standalone.js'), redocBundle.split(kRemoteLogo).join('/favicon.svg'));
copyFileSync(join(redocDir, 'bundles', 'redoc.standalone.js.LICENSE.txt'), join(docs, 'redoc.standalone.js.LICENSE.txt'));
const redocVersion = JSON.parse(readFileSync(join(redocDir, 'package.json'), 'utf8')).version;

// Absolute paths: the server serves this page at /docs (no trailing slash).
writeFileSync(
  join(docs, 'index.html'),
  `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Integr8sCode API reference</title>
    <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
    <style>
      body { margin: 0; }
      .fallback { font: 15px/1.5 system-ui, sans-serif; padding: 24px; }
      .back { display: block; font: 14px/1.5 system-ui, sans-serif; padding: 10px 20px; border-bottom: 1px solid #e5e7eb; color: #4f46e5; }
    </style>
  </head>
  <body>
    <a class="back" href="/">← Back to the Integr8sCode editor</a>
    <div id="redoc"><p class="fallback">Loading the API reference from <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>…</p></div>
    <script src="/docs/redoc.standalone.js?v=${redocVersion}"></script>
    <script src="/docs/init.js?v=${redocVersion}"></script>
  </body>
</html>
`,
);
// External rather than inline, so a strict Content-Security-Policy can allow it.
writeFileSync(
  join(docs, 'init.js'),
  `// Renders the OpenAPI document of this server with Redoc.
(function () {
  var target = document.getElementById('redoc');
  if (!window.Redoc) {
    target.innerHTML = '<p class="fallback">The API reference viewer did not load. The raw document is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>';
    return;
  }
  window.Redoc.init('/api/v1/openapi.json', {
    hideDownloadButton: false,
    expandResponses: '200,201,202',
    theme: {
      colors: { primary: { main: '#4f46e5' } },
      typography: {
        fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
        headings: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' },
        code: { fontFamily: 'ui-monospace, Menlo, Consolas, monospace' }
      }
    }
  }, target, function (error) {
    if (error) target.innerHTML = '<p class="fallback">Could not load /api/v1/openapi.json. Is the server up?</p>';
  });
})();
`,
);

// --- Initial JavaScript size ----------------------------------------------------------------
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = new Set();
for (const match of html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)) initial.add(match[1]);
for (const match of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)) initial.add(match[1]);
let raw = 0;
let gzipped = 0;
for (const path of initial) {
  const bytes = readFileSync(join(dist, path.replace(/^\//, '')));
  raw += bytes.length;
  gzipped += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
console.log(`API reference: dist/docs/index.html (Redoc ${redocVersion})`);
console.log(`Initial JavaScript: ${initial.size} file(s), ${kb(raw)} raw, ${kb(gzipped)} gzipped`);
