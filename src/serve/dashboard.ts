import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packagePath } from '../util/package-root.js';

/**
 * The dashboard's static files, read once at startup and served from memory. The page and its
 * script live in assets/dashboard/ (shipped in the npm package; src/ is not). uPlot is served
 * from our own node_modules at /vendor/, never from a CDN: the dashboard works offline and a
 * third party never sees who watches it.
 */
export interface StaticFile {
  body: Buffer;
  contentType: string;
}

export async function loadDashboardFiles(): Promise<Map<string, StaticFile>> {
  const uplotDir = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  const files: Array<[route: string, path: string, type: string]> = [
    ['/', packagePath('assets/dashboard/index.html'), 'text/html; charset=utf-8'],
    ['/dashboard.js', packagePath('assets/dashboard/dashboard.js'), 'text/javascript; charset=utf-8'],
    ['/dashboard.css', packagePath('assets/dashboard/dashboard.css'), 'text/css; charset=utf-8'],
    ['/favicon.svg', packagePath('assets/dashboard/favicon.svg'), 'image/svg+xml'],
    ['/vendor/uPlot.iife.min.js', join(uplotDir, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['/vendor/uPlot.min.css', join(uplotDir, 'uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  const map = new Map<string, StaticFile>();
  await Promise.all(files.map(async ([route, path, contentType]) => {
    map.set(route, { body: await readFile(path), contentType });
  }));
  map.set('/index.html', map.get('/')!);
  // Browsers that ignore the page's <link rel="icon"> still ask for /favicon.ico; an SVG answers.
  map.set('/favicon.ico', map.get('/favicon.svg')!);
  return map;
}
