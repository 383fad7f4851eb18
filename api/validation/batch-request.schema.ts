import { AppError } from '../../shared/errors/app-error.js';
import { InvalidRequestError } from '../../shared/errors/errors.js';
import {
  checkCallbackUrl,
  parseDetectRequest,
  type DetectRequest,
  type ImageUpload,
} from './detect-request.schema.js';
import { coerceOption, parseUploadRequest } from './upload-options.js';

/** A batch as validated: each item a detect request, or the refusal that item alone gets. */
export interface BatchRequest {
  items: (DetectRequest | AppError)[];
  async: boolean;
  /** Where the batch's answer is POSTed once every item has finished. */
  callbackUrl?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates a JSON batch body. The count is checked first, against MAX_BATCH_ITEMS, before any item is
 * looked at. Options outside `items` apply to every item, an item's own override them; `async` belongs
 * to the batch as a whole, so an item's is ignored. So does `callback_url`: the batch's answer is posted
 * once, and an item's own is refused rather than silently dropped.
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
  if (items.some((item) => isObject(item) && 'callback_url' in item))
    throw new InvalidRequestError(
      "'callback_url' belongs to the batch, not to an item: the batch's answer is posted once, with every item",
    );
  return {
    items: items.map((item) => parseItem(shared, item)),
    async: async === true,
    ...(callbackUrl !== undefined ? { callbackUrl: checkCallbackUrl(callbackUrl) } : {}),
  };
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

/**
 * Validates a multipart batch: each file part an item (or the refusal it met while read, such as its
 * size), the fields and query parameters the options of every item. The reader has already bound the
 * number of parts to MAX_BATCH_ITEMS. Options are checked once, as a bad one would fail every item alike.
 */
export function parseBatchUpload(
  fields: readonly (readonly [string, string])[],
  parts: readonly (ImageUpload | AppError)[],
): BatchRequest {
  const batchFields = fields.filter(([name]) => BATCH_FIELDS.has(name));
  const options = fields.filter(([name]) => !BATCH_FIELDS.has(name));
  const only = (name: string) => {
    const sent = batchFields.filter(([n]) => n === name);
    if (sent.length > 1)
      throw new InvalidRequestError(`'${name}' is sent more than once; send each option once`);
    return sent[0]?.[1];
  };
  const asyncField = only('async');
  const async = asyncField === undefined ? false : coerceOption('async', asyncField);
  if (typeof async !== 'boolean') throw new InvalidRequestError("'async' must be a boolean (true or false)");
  const callbackUrl = only('callback_url');
  // A wrong shared option throws at the first image, once, for the whole batch.
  return {
    items: parts.map((part) => (part instanceof AppError ? part : parseUploadRequest(options, part))),
    async,
    ...(callbackUrl !== undefined ? { callbackUrl: checkCallbackUrl(callbackUrl) } : {}),
  };
}

/** Fields that belong to a batch as a whole rather than to each item. */
const BATCH_FIELDS = new Set(['async', 'callback_url']);
