#!/usr/bin/env node
// shared/ is the bottom layer: it must never import from api/ or worker/ (nor the all-in-one).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const offenders = [];
async function walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(file);
    else if (file.endsWith('.ts')) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/from\s+'([^']+)'/g)) {
        const spec = m[1];
        if (!spec.startsWith('.')) continue;
        const top = path.relative('.', path.resolve(path.dirname(file), spec)).split(path.sep)[0];
        if (top !== 'shared') offenders.push(`${file} imports ${spec}`);
      }
    }
  }
}
await walk('shared');
if (offenders.length) {
  console.error(`shared/ must not import from api/, worker/ or standalone/:\n${offenders.join('\n')}`);
  process.exit(1);
}
console.log('layers ok: shared/ imports only shared/');
