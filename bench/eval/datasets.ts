import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Rect, Truth } from './scoring.js';

interface TruthImage extends Truth {
  file: string;
  width: number;
  height: number;
}

export interface Dataset {
  name: string;
  dir: string;
  images: TruthImage[];
}

/** Neither fixture set holds more; a larger file is not the fixture this evaluator was written for. */
const MAX_IMAGES = 2000;
const MAX_FACES_PER_IMAGE = 5000;

function checkSize(name: string, images: readonly TruthImage[]): void {
  if (images.length > MAX_IMAGES) throw new Error(`${name}: ${images.length} images, at most ${MAX_IMAGES}`);
  for (const image of images) {
    if (image.faces.length + image.ignore.length > MAX_FACES_PER_IMAGE)
      throw new Error(`${name}: ${image.file} has more than ${MAX_FACES_PER_IMAGE} boxes`);
  }
}

/** Every `step`-th image (1: all of them), for quick development runs. */
function everyNth(images: TruthImage[], step: number): TruthImage[] {
  return images.filter((_, i) => i % step === 0);
}

/** crowd-dev: WIDER FACE val photos with gt.json (`faces` scored, `ignore` neither way; see its `note`). */
export async function loadCrowd(sharedDir: string, step: number): Promise<Dataset> {
  const dir = path.join(sharedDir, 'fixtures', 'crowd-dev');
  const gt = JSON.parse(await readFile(path.join(dir, 'gt.json'), 'utf8')) as { images: TruthImage[] };
  checkSize('crowd-dev', gt.images);
  return { name: 'crowd-dev', dir, images: everyNth(gt.images, step) };
}

const attr = (tag: string, name: string): number => {
  const m = new RegExp(`\\b${name}='(-?\\d+)'`).exec(tag);
  if (!m) throw new Error(`faces-dev: <${tag}> has no ${name}`);
  return Number(m[1]);
};

/**
 * faces-dev: dlib's training_with_face_landmarks.xml, one `<image file width height>` per photo and a
 * `<box top left width height>` per face (its landmark parts are not needed here). Nothing is ignored.
 */
export async function loadFacesDev(sharedDir: string): Promise<Dataset> {
  const dir = path.join(sharedDir, 'fixtures', 'faces-dev');
  const xml = await readFile(path.join(dir, 'training_with_face_landmarks.xml'), 'latin1');
  const images: TruthImage[] = [];
  for (const block of xml.split('<image ').slice(1)) {
    const head = block.slice(0, block.indexOf('>'));
    const file = /file='([^']+)'/.exec(head)?.[1];
    if (!file) throw new Error('faces-dev: an <image> has no file');
    const faces: Rect[] = [...block.matchAll(/<box ([^>]*)>/g)].map(([, tag]) => [
      attr(tag!, 'left'),
      attr(tag!, 'top'),
      attr(tag!, 'width'),
      attr(tag!, 'height'),
    ]);
    images.push({ file, width: attr(head, 'width'), height: attr(head, 'height'), faces, ignore: [] });
  }
  checkSize('faces-dev', images);
  return { name: 'faces-dev', dir, images };
}
