import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DETECTOR_FAMILIES, FAMILY_NAMES, type FamilyName } from './detector-families.js';

/**
 * The named models `MODEL_NAME` can choose. Shipped models are the rows of models/manifest.json (file,
 * SHA-256 and pinned upstream, which `npm run models` installs into MODELS_DIR); research models are read
 * in place from SHARED_DIR/models and never copied or shipped.
 */
export interface ModelEntry {
  name: string;
  family: FamilyName;
  file: string;
  /** `models`: MODELS_DIR, installed by `npm run models`. `shared`: SHARED_DIR/models, tests and benchmarks. */
  location: 'models' | 'shared';
  licence: string;
}

interface ManifestRow {
  name: string;
  family: string;
  file: string;
}

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const SHIPPED = (
  JSON.parse(readFileSync(path.join(ROOT, 'models', 'manifest.json'), 'utf8')) as {
    license: string;
    models: ManifestRow[];
  }
).models;

// InsightFace's released checkpoints, as exported for ../shared/models (SCRFD.md there): research only.
const RESEARCH: ModelEntry[] = [
  { name: 'scrfd_500m', file: 'scrfd_500m_kps.onnx' },
  { name: 'scrfd_2.5g', file: 'scrfd_2.5g_kps.onnx' },
].map((m) => ({
  ...m,
  family: 'scrfd',
  location: 'shared',
  licence: DETECTOR_FAMILIES.scrfd.licence,
}));

export const MODELS: readonly ModelEntry[] = [
  ...SHIPPED.map((row) => ({
    name: row.name,
    family: familyOf(row),
    file: row.file,
    location: 'models' as const,
    licence: DETECTOR_FAMILIES[familyOf(row)].licence,
  })),
  ...RESEARCH,
];

function familyOf(row: ManifestRow): FamilyName {
  if (!(FAMILY_NAMES as string[]).includes(row.family)) {
    throw new Error(`models/manifest.json: ${row.name} names no known family (${row.family})`);
  }
  return row.family as FamilyName;
}

/** What `MODEL_NAME` may be: a model's name, or a family's together with `MODEL_FILE`. */
export const MODEL_CHOICES = [...MODELS.map((m) => m.name), ...FAMILY_NAMES];

export interface ResolvedModel {
  name: string;
  family: FamilyName;
  path: string;
}

/**
 * The model file `MODEL_NAME` (and `MODEL_FILE`) choose, or the problem naming the variable to fix. A
 * named model with `MODEL_FILE` uses that file as a model of the named one's family.
 */
export function resolveModel(
  choice: { name: string; file?: string },
  dirs: { models: string; shared: string },
): ResolvedModel | string {
  const named = MODELS.find((m) => m.name === choice.name);
  const family = named?.family ?? FAMILY_NAMES.find((f) => f === choice.name);
  if (!family) return `MODEL_NAME=${choice.name}: must be one of ${MODEL_CHOICES.join(', ')}`;
  if (choice.file) return { name: choice.name, family, path: path.resolve(choice.file) };
  if (!named) {
    return `MODEL_FILE: required with MODEL_NAME=${choice.name} (a family, not a model): the path of your ${family} ONNX file`;
  }
  const dir = named.location === 'models' ? dirs.models : path.join(dirs.shared, 'models');
  return { name: named.name, family, path: path.resolve(dir, named.file) };
}
