import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';

export interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** The only files the dashboard serves besides its pages: its own scripts and styles, and uPlot's, read once. */
export function loadAssets(): Map<string, Asset> {
  const own = join(packageRoot(), 'src', 'dashboard', 'assets');
  const require = createRequire(import.meta.url);
  const files: Record<string, string> = {
    'dashboard.css': join(own, 'dashboard.css'),
    'login.js': join(own, 'login.js'),
    'overview.js': join(own, 'overview.js'),
    'spend.js': join(own, 'spend.js'),
    'access.js': join(own, 'access.js'),
    'uPlot.iife.min.js': require.resolve('uplot/dist/uPlot.iife.min.js'),
    'uPlot.min.css': require.resolve('uplot/dist/uPlot.min.css'),
  };
  const assets = new Map<string, Asset>();
  for (const [name, path] of Object.entries(files)) assets.set(name, { body: readFileSync(path), type: TYPES[name.slice(name.lastIndexOf('.'))]! });
  return assets;
}
