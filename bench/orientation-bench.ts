import sharp from 'sharp';
import type { FaceDetectionService } from '../worker/detection/face-detection.service.js';

interface AutoRotateCost {
  /** CPU ms per image (this process and its inference threads), `auto_rotate` off and on. */
  offMs: number;
  onMs: number;
  ratio: number;
  /** Faces found, off and on. */
  facesOff: number;
  facesOn: number;
}

export interface AutoRotateResults {
  upright: AutoRotateCost;
  noFace: AutoRotateCost;
  turned90: AutoRotateCost;
}

/** The pictures compared: the bench's photo, it turned 90° without EXIF, and a scene cut from a photo without its face. */
export async function autoRotatePictures(photo: Buffer, portrait: Buffer) {
  const { width = 0, height = 0 } = await sharp(portrait).metadata();
  const noFace = await sharp(portrait)
    .extract({ left: 0, top: Math.round(height * 0.46), width, height: height - Math.round(height * 0.46) })
    .resize(1920, 1080, { fit: 'fill' })
    .jpeg({ quality: 90 })
    .toBuffer();
  return { upright: photo, noFace, turned90: await sharp(photo).rotate(90).jpeg({ quality: 90 }).toBuffer() };
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * CPU per image with `auto_rotate` off and on, for each picture, one image at a time so that only the
 * pipeline runs; rounds alternate off and on so a neighbour's load falls on both alike.
 */
export async function measureAutoRotate(
  detector: FaceDetectionService,
  pictures: Record<keyof AutoRotateResults, Buffer>,
  options: { rounds: number; perRound: number },
): Promise<AutoRotateResults> {
  const entries = Object.entries(pictures) as [keyof AutoRotateResults, Buffer][];
  const spent = new Map<string, { ms: number; n: number; faces: number }>();
  for (const [, bytes] of entries) {
    for (const autoRotate of [false, true]) await detector.detectEncoded(bytes, { autoRotate });
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const [name, bytes] of entries) {
      for (const autoRotate of [false, true]) {
        const key = `${name}:${autoRotate}`;
        const entry = spent.get(key) ?? { ms: 0, n: 0, faces: 0 };
        const start = cpuMs();
        for (let i = 0; i < options.perRound; i++)
          entry.faces = (await detector.detectEncoded(bytes, { autoRotate })).faces.length;
        entry.ms += cpuMs() - start;
        entry.n += options.perRound;
        spent.set(key, entry);
      }
    }
  }
  const cost = (name: string): AutoRotateCost => {
    const off = spent.get(`${name}:false`)!;
    const on = spent.get(`${name}:true`)!;
    const offMs = off.ms / off.n;
    const onMs = on.ms / on.n;
    return { offMs, onMs, ratio: onMs / offMs, facesOff: off.faces, facesOn: on.faces };
  };
  return { upright: cost('upright'), noFace: cost('noFace'), turned90: cost('turned90') };
}
