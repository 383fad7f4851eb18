import http from 'node:http';
import https from 'node:https';
import { Client, type ClientOptions } from 'minio';
import { StorageError } from '../errors/errors.js';
import type { Readable } from 'node:stream';
import { CROP_KEY_PATTERN, cropKey, type Crop, type CropStorage } from './crop-storage.js';
import { mapBounded, reasonOf } from './storage-utils.js';

export interface S3CropStorageOptions {
  /** Host name or IP of the S3-compatible store, without scheme or port (`minio`, `s3.eu-west-1.amazonaws.com`). */
  endpoint: string;
  /** @defaultValue 443 with TLS, 80 without */
  port?: number;
  /** @defaultValue true */
  useSSL?: boolean;
  accessKey: string;
  secretKey: string;
  /** Created by `init()` when missing. */
  bucket: string;
  /** Known up front, so requests are signed without a location lookup. @defaultValue `us-east-1` */
  region?: string;
  /** Uploads in flight per `putCrops` call. @defaultValue 4 */
  uploadConcurrency?: number;
  /** A request to the store that stays silent this long fails. @defaultValue 30000 */
  requestTimeoutMs?: number;
}

/** Crops in an S3-compatible bucket through the `minio` client; the only module that knows `minio`. */
export class S3CropStorage implements CropStorage {
  private readonly client: Client;
  private readonly agent: http.Agent;
  private readonly bucket: string;
  private readonly region: string;
  private readonly uploadConcurrency: number;
  private readonly where: string;

  constructor(options: S3CropStorageOptions) {
    const useSSL = options.useSSL ?? true;
    const port = options.port ?? (useSSL ? 443 : 80);
    const timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.bucket = options.bucket;
    this.region = options.region ?? 'us-east-1';
    this.uploadConcurrency = options.uploadConcurrency ?? 4;
    this.where = `${useSSL ? 'https' : 'http'}://${options.endpoint}:${port}/${options.bucket}`;
    if (!Number.isInteger(this.uploadConcurrency) || this.uploadConcurrency < 1) {
      throw new RangeError('S3 crop storage: uploadConcurrency must be a positive integer');
    }

    const protocol = useSSL ? https : http;
    this.agent = new protocol.Agent({ keepAlive: true });
    // minio sets no timeout of its own, so a store that accepts connections and never answers would
    // hold a job (and its upload slots) forever.
    const request = (options: https.RequestOptions, callback?: (res: http.IncomingMessage) => void) => {
      const req = protocol.request(options, callback);
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      return req;
    };
    this.client = new Client({
      endPoint: options.endpoint,
      port,
      useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      region: this.region,
      transport: { request } as ClientOptions['transport'],
      transportAgent: this.agent,
    });
  }

  async init(): Promise<void> {
    try {
      if (await this.client.bucketExists(this.bucket)) return;
      try {
        await this.client.makeBucket(this.bucket, this.region);
      } catch (err) {
        // Several workers and the gateway start together; losing the race to create it is fine.
        if (!(await this.client.bucketExists(this.bucket))) throw err;
      }
    } catch (err) {
      throw new StorageError(`could not prepare bucket ${this.where}: ${reasonOf(err)}`, { cause: err });
    }
  }

  async putCrops(jobId: string, crops: Crop[]): Promise<string[]> {
    const now = new Date();
    const keys = crops.map((c) => cropKey(now, jobId, c.frame, c.face));
    return mapBounded(crops, this.uploadConcurrency, async (crop, i) => {
      const key = keys[i] as string;
      try {
        await this.client.putObject(this.bucket, key, crop.jpeg, crop.jpeg.length, {
          'Content-Type': 'image/jpeg',
        });
        return key;
      } catch (err) {
        throw new StorageError(`could not upload ${key}: ${reasonOf(err)}`, { cause: err });
      }
    });
  }

  async read(key: string): Promise<Readable | undefined> {
    if (!CROP_KEY_PATTERN.test(key)) return undefined;
    try {
      return await this.client.getObject(this.bucket, key);
    } catch (err) {
      if ((err as { code?: string }).code === 'NoSuchKey') return undefined;
      throw new StorageError(`could not read ${key}: ${reasonOf(err)}`, { cause: err });
    }
  }

  async check(): Promise<void> {
    let exists: boolean;
    try {
      exists = await this.client.bucketExists(this.bucket);
    } catch (err) {
      throw new StorageError(`bucket ${this.where} is unreachable: ${reasonOf(err)}`, { cause: err });
    }
    if (!exists) throw new StorageError(`bucket ${this.where} does not exist`);
  }

  close(): Promise<void> {
    this.agent.destroy();
    return Promise.resolve();
  }
}
