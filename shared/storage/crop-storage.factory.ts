import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { createCropStorage } from './create-crop-storage.js';

/** The crop store the configuration names, for gateway and worker alike. */
export function cropStorageFromConfig(config: Config, logger: Logger) {
  const { s3, dataDir, urlTtlS, uploadConcurrency } = config.storage;
  return createCropStorage({
    s3: s3 && { ...s3, uploadConcurrency },
    local: { dataDir, urlTtlS, uploadConcurrency, logger },
  });
}
