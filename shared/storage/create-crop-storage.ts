import { LocalCropStorage, type LocalCropStorageOptions } from './local-crop-storage.repository.js';
import { S3CropStorage, type S3CropStorageOptions } from './s3-crop-storage.repository.js';

export interface CropStorageOptions {
  /** Present when `S3_ENDPOINT` is set; then crops go to the bucket and `local` is unused. */
  s3?: S3CropStorageOptions;
  local: LocalCropStorageOptions;
}

/** Picks the store for cropped faces; the gateway serves crops from either through signed links. */
export function createCropStorage(options: CropStorageOptions): S3CropStorage | LocalCropStorage {
  return options.s3 ? new S3CropStorage(options.s3) : new LocalCropStorage(options.local);
}
