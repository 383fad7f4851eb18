import { GuardedHttpClient, type GuardedHttpClientOptions } from './guarded-http-client.js';
import { parseHttpUrl } from './fetch-errors.js';

export interface WebhookPosterOptions extends GuardedHttpClientOptions {
  /** Budget for one delivery: DNS, connecting and sending. @defaultValue 30000 */
  timeoutMs?: number;
}

/** Delivers callback bodies through the same guard as media URLs. */
export class WebhookPoster {
  private readonly client: GuardedHttpClient;
  private readonly timeoutMs: number;

  constructor(options: WebhookPosterOptions = {}) {
    this.client = new GuardedHttpClient(options);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * Posts `json` (already serialized, so a signature over it covers exactly the bytes sent) and reports the
   * status without reading the answer. Redirects are not followed: a webhook that moved answers 3xx and the
   * caller decides.
   */
  async postJson(url: string, json: string, headers: Record<string, string>): Promise<{ status: number }> {
    const payload = Buffer.from(json);
    return this.client.withDeadline(this.timeoutMs, undefined, async (transfer) => {
      const response = await this.client.request(
        parseHttpUrl(url),
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers, 'content-length': payload.length },
          body: payload,
        },
        transfer,
      );
      response.destroy();
      return { status: response.statusCode ?? 0 };
    });
  }
}
