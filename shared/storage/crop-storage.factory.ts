import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import type { RedisClient } from '../queue/redis-connection.js';
import { CropLinkSigner, cropLinkSecrets } from './crop-link-signer.js';
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

/**
 * The signer of crop links the configuration names: its secrets (configured, or shared through `redis`)
 * and their lifetime. `base` prefixes the links: the worker's are absolute, the gateway only checks them.
 */
export function cropLinkSignerFromConfig(config: Config, redis: RedisClient, base?: string): CropLinkSigner {
  return new CropLinkSigner({
    secrets: () =>
      cropLinkSecrets(
        { current: config.storage.linkSecret, previous: config.storage.previousLinkSecret },
        redis,
        config.queuePrefix,
      ),
    ttlS: config.storage.urlTtlS,
    base,
  });
}
