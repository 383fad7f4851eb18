import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { LocalCropStorage } from './local-crop-storage.repository.js';
import { S3CropStorage } from './s3-crop-storage.repository.js';

/**
 * The crop store the configuration names, for gateway and worker alike: the bucket when S3_ENDPOINT is
 * set, else local disk under DATA_DIR. The gateway serves crops from either through signed links.
 */
export function cropStorageFromConfig(config: Config, logger: Logger): S3CropStorage | LocalCropStorage {
  const { s3, dataDir, urlTtlS, uploadConcurrency } = config.storage;
  return s3
    ? new S3CropStorage({ ...s3, uploadConcurrency })
    : new LocalCropStorage({ dataDir, urlTtlS, uploadConcurrency, logger });
}
