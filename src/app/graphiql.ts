import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { GraphiQLOptions } from 'graphql-yoga';

/** Where GraphiQL's code is served from: the same origin, so the page works without internet. */
export const GRAPHIQL_ASSET_PREFIX = '/graphiql/';

/**
 * GraphiQL's page allows only its own origin. Monaco sets style attributes (hence 'unsafe-inline'
 * for styles only); scripts and workers come from this origin, never inline.
 */
export const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** What a new user sees first: how to get a token, then a query and a subscription to run. */
export const GRAPHIQL_DEFAULT_QUERY = `# RDP Services Cluster: GraphiQL
#
# Most fields need a token. Make one:
#
#   npm run token -- --role admin --sub alice
#
# (roles: user, operator, admin), then in the
# Headers tab below:
#
#   { "Authorization": "Bearer <token>" }
#
# Subscriptions use the same header (sent over
# the WebSocket). In production, Docs and
# completion are shown to admins only.

query Fleet {
  viewer { username roles }
  servers(first: 20) {
    totalCount
    edges { node { id name status port } }
  }
}

subscription OpenAlerts {
  alertEvents {
    kind
    alert { id severity message resolved }
  }
}
`;

/** Empty: anonymous until the user pastes a token (the default query says how). */
export const GRAPHIQL_DEFAULT_HEADERS = JSON.stringify({ Authorization: '' }, null, 2);

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  type: string;
}

/**
 * Accessibility fixes on top of GraphiQL's stylesheet (axe-core, serious): the title in the
 * corner is drawn at the secondary alpha, below 4.5:1 contrast on the page's background.
 */
const OVERRIDES_CSS = `.graphiql-container .graphiql-logo,
.graphiql-container .graphiql-logo .graphiql-logo-link { color: hsl(var(--color-neutral)); }
`;

/** Sets up Monaco's workers from this origin, then renders GraphiQL with the page's options. */
const BOOT_JS = `(function () {
  var el = document.getElementById('graphiql-options');
  var cfg = JSON.parse(el.textContent);
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (_moduleId, label) { return cfg.workers[label] || cfg.workers.editorWorkerService; },
  };
  // GraphiQL's tab strip puts its buttons inside an element with role=tab (axe-core, serious:
  // nested-interactive). The button becomes the tab and the list item a plain wrapper.
  function fixTabs() {
    document.querySelectorAll('.graphiql-tabs > li').forEach(function (li) {
      var button = li.querySelector('.graphiql-tab-button');
      if (!button) return;
      if (li.getAttribute('role') !== 'none') li.setAttribute('role', 'none');
      if (button.getAttribute('role') !== 'tab') button.setAttribute('role', 'tab');
      var selected = li.classList.contains('graphiql-tab-active') ? 'true' : 'false';
      if (button.getAttribute('aria-selected') !== selected) button.setAttribute('aria-selected', selected);
      if (li.hasAttribute('aria-selected')) li.removeAttribute('aria-selected');
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    var root = document.getElementById('root');
    YogaGraphiQL.renderYogaGraphiQL(root, cfg.options);
    new MutationObserver(fixTabs).observe(root, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['class', 'role', 'aria-selected'],
    });
  });
})();
`;

export interface GraphiQLAssets {
  render(options: GraphiQLOptions): string;
  /** Serves GET/HEAD of a path under GRAPHIQL_ASSET_PREFIX (404 for an unknown one). */
  serve(req: IncomingMessage, res: ServerResponse, path: string): void;
}

function fingerprinted(name: string, ext: string, body: Buffer): string {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return `${GRAPHIQL_ASSET_PREFIX}${name}.${hash}.${ext}`;
}

/** Escapes what could end a <script> data block early. */
const jsonForScript = (value: unknown) =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/**
 * GraphiQL from @graphql-yoga/render-graphiql, split into files with content hashes served from
 * this origin (the package's own page inlines about 9 MB into every response and needs inline
 * scripts; yoga's default page loads everything from a CDN). Loaded only when GraphiQL is on.
 */
export async function loadGraphiQLAssets(): Promise<GraphiQLAssets> {
  const pkg = await import('@graphql-yoga/render-graphiql/graphiql');
  const assets = new Map<string, Asset>();
  const add = (name: string, ext: string, type: string, text: string): string => {
    const body = Buffer.from(text, 'utf8');
    const url = fingerprinted(name, ext, body);
    assets.set(url, { body, type });
    return url;
  };
  const js = 'text/javascript; charset=utf-8';
  const urls = {
    css: add('graphiql', 'css', 'text/css; charset=utf-8', pkg.css),
    overrides: add('overrides', 'css', 'text/css; charset=utf-8', OVERRIDES_CSS),
    js: add('graphiql', 'js', js, pkg.js),
    boot: add('boot', 'js', js, BOOT_JS),
    workers: {
      editorWorkerService: add('editor.worker', 'js', js, pkg.editorWorkerService),
      json: add('json.worker', 'js', js, pkg.jsonWorker),
      graphql: add('graphql.worker', 'js', js, pkg.graphqlWorker),
    },
    favicon: faviconAsset(pkg.favicon, assets),
  };

  return {
    render(options) {
      const title = escapeHtml(options.title ?? 'GraphiQL');
      return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <link rel="icon" href="${urls.favicon}" />
    <link rel="stylesheet" href="${urls.css}" />
    <link rel="stylesheet" href="${urls.overrides}" />
    <script id="graphiql-options" type="application/json">${jsonForScript({ options, workers: urls.workers })}</script>
    <script defer src="${urls.boot}"></script>
    <script defer src="${urls.js}"></script>
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
  </body>
</html>
`;
    },
    serve(req, res, path) {
      const asset = assets.get(path);
      if (!asset || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      // Compressed once, on first use: these files are megabytes and change only with the package.
      if (gzip) asset.gzip ??= gzipSync(asset.body);
      const body = gzip && asset.gzip ? asset.gzip : asset.body;
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': String(body.length),
        // The name carries the content hash: a new package version is a new URL.
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
        vary: 'accept-encoding',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}

let loading: Promise<GraphiQLAssets> | undefined;

/** The assets, loaded once per process on first use (the package is about 9 MB of strings). */
export function graphiqlAssets(): Promise<GraphiQLAssets> {
  loading ??= loadGraphiQLAssets();
  return loading;
}

/** The package ships its favicon as a data: URL; served as a file like the rest. */
function faviconAsset(dataUrl: string, assets: Map<string, Asset>): string {
  const m = /^data:([^;,]+)(;base64)?,(.*)$/s.exec(dataUrl);
  if (!m) return dataUrl;
  const type = m[1] ?? 'image/png';
  const body = m[2] ? Buffer.from(m[3] ?? '', 'base64') : Buffer.from(decodeURIComponent(m[3] ?? ''), 'utf8');
  const ext = type.includes('svg') ? 'svg' : type.split('/')[1] || 'png';
  const url = fingerprinted('favicon', ext, body);
  assets.set(url, { body, type });
  return url;
}
