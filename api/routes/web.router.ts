import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { renderDocsPage } from '../openapi/docs-page.js';
import { buildOpenApiDocument } from '../openapi/openapi-document.js';

/** Pages load only this origin's scripts and styles; pictures and videos may come from any URL a user tries. */
const PAGE_HEADERS = {
  'Content-Security-Policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob: http: https:",
    "media-src 'self' blob: http: https:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  // The page loads images and videos from URLs users paste; those hosts need not learn where from.
  'Referrer-Policy': 'no-referrer',
};

function setPageHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
}

/**
 * The folder that holds package.json. Static files are served from the source tree, so the build copies
 * nothing, and this works the same from dist/ and from a checkout.
 */
function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** The try-it page (GET /), the API reference (GET /docs) and the OpenAPI document. No API key needed. */
export function createWebRouter(): Router {
  const root = projectRoot();
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  const doc = buildOpenApiDocument(version);
  const docsPage = renderDocsPage(doc);

  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    // Lets API tools on other origins (editors, client generators) read the contract straight from here.
    res.set('Access-Control-Allow-Origin', '*').json(doc);
  });
  router.get('/docs', (_req, res) => {
    setPageHeaders(res);
    res.type('html').send(docsPage);
  });
  router.use(
    express.static(path.join(root, 'api', 'public'), { redirect: false, setHeaders: setPageHeaders }),
  );
  return router;
}
