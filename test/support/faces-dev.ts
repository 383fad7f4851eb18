import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FACES_DEV } from './fixtures.js';

export interface AnnotatedFace {
  box: { left: number; top: number; width: number; height: number };
  parts: Map<number, [number, number]>;
}

export interface AnnotatedImage {
  file: string;
  faces: AnnotatedFace[];
}

/** Reads dlib's annotation XML (boxes and 68 iBUG landmarks per face). */
export async function loadFacesDev(): Promise<AnnotatedImage[]> {
  const xml = await readFile(path.join(FACES_DEV, 'training_with_face_landmarks.xml'), 'latin1');
  return [...xml.matchAll(/<image file='([^']+)'[^>]*>([\s\S]*?)<\/image>/g)].map((img) => ({
    file: path.join(FACES_DEV, img[1]!),
    faces: [
      ...img[2]!.matchAll(
        /<box top='(-?\d+)' left='(-?\d+)' width='(\d+)' height='(\d+)'>([\s\S]*?)<\/box>/g,
      ),
    ].map((b) => ({
      box: { top: +b[1]!, left: +b[2]!, width: +b[3]!, height: +b[4]! },
      parts: new Map(
        [...b[5]!.matchAll(/<part name='(\d+)' x='(-?\d+)' y='(-?\d+)'\/>/g)].map((p) => [
          +p[1]!,
          [+p[2]!, +p[3]!] as [number, number],
        ]),
      ),
    })),
  }));
}

const mean = (face: AnnotatedFace, ids: number[]): [number, number] => {
  const pts = ids.map((i) => face.parts.get(i)!);
  return [pts.reduce((a, p) => a + p[0], 0) / pts.length, pts.reduce((a, p) => a + p[1], 0) / pts.length];
};

/** The annotation's counterparts of the contract's 6 landmarks. */
export function referenceLandmarks(face: AnnotatedFace): [number, number][] {
  return [
    mean(face, [36, 37, 38, 39, 40, 41]),
    mean(face, [42, 43, 44, 45, 46, 47]),
    mean(face, [30]),
    mean(face, [62, 66]),
    mean(face, [48]),
    mean(face, [54]),
  ];
}
