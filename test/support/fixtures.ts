import path from 'node:path';

/** ../shared beside the project, or SHARED_DIR. */
const SHARED_DIR = path.resolve(process.env.SHARED_DIR ?? '../shared');
const IMAGES = path.join(SHARED_DIR, 'fixtures', 'images');
export const VIDEOS = path.join(SHARED_DIR, 'fixtures', 'video');
export const FACES_DEV = path.join(SHARED_DIR, 'fixtures', 'faces-dev');
export const image = (name: string) => path.join(IMAGES, name);
