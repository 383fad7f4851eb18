#!/usr/bin/env node
// Puts every model of models/manifest.json into MODELS_DIR (default ./models), verified by SHA-256.
// Source order: a file already in place, then SHARED_DIR/models (default ../shared/models), then the
// pinned upstream URL. Plain JS so it runs before the TypeScript build (Docker build, fresh clone).
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(await readFile(path.join(root, 'models', 'manifest.json'), 'utf8'));
const modelsDir = path.resolve(root, process.env.MODELS_DIR ?? 'models');
const sharedModels = path.resolve(root, process.env.SHARED_DIR ?? '../shared', 'models');

const sha256 = async (file) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

async function ensure(model) {
  const target = path.join(modelsDir, model.file);
  if (existsSync(target) && (await sha256(target)) === model.sha256) return `${model.file}: present`;
  const tmp = `${target}.part`;
  const local = path.join(sharedModels, model.file);
  let from;
  if (existsSync(local)) {
    await copyFile(local, tmp);
    from = local;
  } else {
    const res = await fetch(model.url, { signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw new Error(`${model.file}: download from ${model.url} failed with HTTP ${res.status}`);
    await writeFile(tmp, Buffer.from(await res.arrayBuffer()));
    from = model.url;
  }
  const got = await sha256(tmp);
  if (got !== model.sha256) {
    await rm(tmp, { force: true });
    throw new Error(
      `${model.file}: SHA-256 ${got} from ${from} does not match the manifest's ${model.sha256}`,
    );
  }
  await rename(tmp, target);
  return `${model.file}: installed from ${from}`;
}

await mkdir(modelsDir, { recursive: true });
try {
  for (const model of manifest.models) console.log(await ensure(model));
} catch (err) {
  console.error(`Model setup failed: ${err instanceof Error ? err.message : String(err)}`);
  console.error(
    `Put the files named in models/manifest.json into ${modelsDir}, or set SHARED_DIR / MODELS_DIR.`,
  );
  process.exit(1);
}
