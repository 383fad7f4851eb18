import { AppError } from '../../shared/errors/app-error.js';
import { InvalidRequestError } from '../../shared/errors/errors.js';
import { parseDetectRequest, type DetectRequest } from './detect-request.schema.js';

/** A batch as validated: each item a detect request, or the refusal that item alone gets. */
export interface BatchRequest {
  items: (DetectRequest | AppError)[];
  async: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates a JSON batch body. The count is checked first, against MAX_BATCH_ITEMS, before any item is
 * looked at. Options outside `items` apply to every item, an item's own override them; `async` belongs
 * to the batch as a whole, so an item's is ignored. Callbacks are not yet posted for batches, so
 * `callback_url` is refused rather than silently dropped.
 */
export function parseBatchRequest(body: unknown, maxItems: number): BatchRequest {
  if (!isObject(body)) throw new InvalidRequestError('The request body must be a JSON object');
  const { items, async, callback_url: callbackUrl, ...shared } = body;
  if (!Array.isArray(items) || items.length === 0)
    throw new InvalidRequestError("'items' must be a non-empty array of objects, each with 'url' or 'img'");
  if (items.length > maxItems)
    throw new InvalidRequestError(
      `'items' holds ${items.length} items; at most ${maxItems} per batch (MAX_BATCH_ITEMS)`,
    );
  if (async !== undefined && typeof async !== 'boolean')
    throw new InvalidRequestError("'async' must be a boolean (true or false)");
  if (callbackUrl !== undefined || items.some((item) => isObject(item) && 'callback_url' in item))
    throw new InvalidRequestError("'callback_url' is not supported for batches; poll the batch's status_url");
  return { items: items.map((item) => parseItem(shared, item)), async: async === true };
}

function parseItem(shared: Record<string, unknown>, item: unknown): DetectRequest | AppError {
  if (!isObject(item))
    return new InvalidRequestError("Each of 'items' must be an object with 'url' or 'img'");
  try {
    return parseDetectRequest({ ...shared, ...item });
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
}
