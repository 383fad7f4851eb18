import { readFile } from 'node:fs/promises';
import { phoneAgainstPhoto, type InProcessPipeline } from './inprocess.js';
import { autoRotatePictures, measureAutoRotate, type AutoRotateResults } from './orientation-bench.js';
import { log, PORTRAIT, quick, ROUNDS } from './setup.js';

export interface PhotoFigures {
  autoRotate: AutoRotateResults;
  phone: { phoneMs: number; photoMs: number };
}

/** CPU per image in process, one image at a time: auto_rotate off and on, then a phone photo. */
export async function measurePhotoRounds(inProcess: InProcessPipeline, photo: Buffer): Promise<PhotoFigures> {
  const portrait = await readFile(PORTRAIT);
  const options = { rounds: ROUNDS, perRound: quick ? 3 : 8 };
  log('auto_rotate off and on, in-process, one image at a time');
  const autoRotate = await measureAutoRotate(
    inProcess.detector,
    await autoRotatePictures(photo, portrait),
    options,
  );
  // After auto_rotate: the phone photo's large buffers would otherwise be collected during it.
  log('a 12-megapixel phone photo against the 1080p one, in-process, one image at a time');
  const phone = await phoneAgainstPhoto(inProcess, photo, portrait, options);
  return { autoRotate, phone };
}
