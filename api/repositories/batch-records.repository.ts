import { gatewayCommand, type RedisClient } from '../../shared/queue/redis-connection.js';

/** One item of a batch as recorded: the detect job it became, or the refusal it met at the gateway. */
export type BatchEntry = { jobId: string } | { error: { status: number; message: string } };

/** A batch job: a parent record whose items are ordinary detect jobs, read back by the status path. */
export interface BatchRecord {
  /** The submitting key's owner id; undefined without authentication. */
  owner?: string;
  entries: BatchEntry[];
}

/** Batch records in Redis, kept as long as job results are. */
export class BatchRecordsRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlS: number,
  ) {}

  async save(batchId: string, record: BatchRecord): Promise<void> {
    await gatewayCommand(this.redis.set(this.key(batchId), JSON.stringify(record), 'EX', this.ttlS), 5000);
  }

  async load(batchId: string): Promise<BatchRecord | undefined> {
    const raw = await gatewayCommand(this.redis.get(this.key(batchId)), 5000);
    return raw === null ? undefined : (JSON.parse(raw) as BatchRecord);
  }

  private key(batchId: string): string {
    return `${this.prefix}:batch:${batchId}`;
  }
}
