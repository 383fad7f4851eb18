import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { regionIou, type Region } from './regions.js';

/** test/fixtures/rotation-dev of this repository, found from this file whether it runs compiled or not. */
const ROTATION_DEV = fileURLToPath(new URL('../../../test/fixtures/rotation-dev/', import.meta.url));

export type Turn = 0 | 90 | 180 | 270;

/** An upright photo and its faces, `[x, y, w, h]` in its pixels; `ignore` counts neither way. */
export interface LabelledPhoto {
  file: string;
  width: number;
  height: number;
  split: 'dev' | 'holdout';
  faces: Region[];
  ignore: Region[];
}

/** The development set's photos; rejects when the set is missing, so that no test passes without it. */
export async function loadRotationDev(dir = ROTATION_DEV): Promise<LabelledPhoto[]> {
  const labels = JSON.parse(await readFile(path.join(dir, 'labels.json'), 'utf8')) as {
    images: LabelledPhoto[];
  };
  return labels.images.map((photo) => ({ ...photo, file: path.join(dir, 'images', photo.file) }));
}

/**
 * A region of the photo turned `turn`° clockwise (as sharp's rotate does) in the upright photo's pixels,
 * `width`×`height` being the upright size.
 */
export function unturnRegion([x, y, w, h]: Region, turn: Turn, width: number, height: number): Region {
  if (turn === 90) return [y, height - x - w, h, w];
  if (turn === 180) return [width - x - w, height - y - h, w, h];
  if (turn === 270) return [width - y - h, x, h, w];
  return [x, y, w, h];
}

/**
 * Faces found and false faces among `found` (upright pixels), as WIDER scores at IoU 0.5: each labelled
 * face is found at most once, best overlap first, and a detection on an ignore box counts neither way.
 */
export function scoreRegions(found: readonly Region[], photo: Pick<LabelledPhoto, 'faces' | 'ignore'>) {
  const used = new Set<number>();
  let hits = 0;
  let falseFaces = 0;
  for (const r of found) {
    let best = -1;
    let bestIou = MIN_IOU;
    photo.faces.forEach((face, i) => {
      const o = regionIou(r, face);
      if (!used.has(i) && o >= bestIou) [best, bestIou] = [i, o];
    });
    if (best >= 0) {
      used.add(best);
      hits++;
    } else if (!photo.ignore.some((box) => regionIou(r, box) >= MIN_IOU)) {
      falseFaces++;
    }
  }
  return { found: hits, falseFaces };
}

const MIN_IOU = 0.5;
