import type { JsonSchema, Operation } from './openapi-types.js';
import { failure, json, optionSchemas, ref, retryAfter, uploadParameters } from './openapi-schemas.js';

/** The batch body: the items, each a detect request, and the options every item shares. */
export function batchRequestSchema(): JsonSchema {
  return {
    type: 'object',
    required: ['items'],
    properties: {
      items: {
        type: 'array',
        minItems: 1,
        description:
          'At most `MAX_BATCH_ITEMS` (16 by default). Each item is a detect request: `url` or `img`, and any options, which override the shared ones.',
        items: ref('DetectRequest'),
      },
      async: { type: 'boolean', default: false, description: 'Answer 202 at once; poll `status_url`.' },
      callback_url: {
        type: 'string',
        format: 'uri',
        description:
          "Receives the batch's final answer (`BatchSuccess`) by POST once every item has finished, signed with X-Signature. It belongs to the batch: an item's own `callback_url` is a 400.",
      },
    },
    additionalProperties: true,
    description: 'Any other field is an option of `DetectRequest` shared by every item.',
  };
}

/** A batch as a form: one file part per image, the options for all of them as fields. */
function batchFormSchema(): JsonSchema {
  return {
    type: 'object',
    description:
      "One file part named `file` per image (at most `MAX_BATCH_ITEMS`), in the order of the answer's `items`; the options of every item as fields, written as in a query string, or as query parameters. A part over `MAX_IMAGE_BYTES` fails alone, as its item (413), and the other parts are still read.",
    properties: {
      file: {
        type: 'array',
        items: { type: 'string', contentMediaType: 'application/octet-stream' },
        description: 'The images; their bytes decide their formats.',
      },
      async: { type: 'boolean', default: false, description: 'Answer 202 at once; poll `status_url`.' },
      ...optionSchemas(),
    },
    required: ['file'],
  };
}

/** POST /detect/batch, under either of its paths. */
export function batchOperation(
  operationId: string,
  note: string,
  security: Operation['security'],
): Operation {
  return {
    operationId,
    summary: 'Detect faces in several images or videos in one call',
    description: `${note} Each item becomes an ordinary detect job (images and videos in their own lanes, sharing the workers with every other request); the answer lists one entry per item, in request order, each with the \`status\` that item would get alone. A bad item (undecodable, too large, a failed download, a refused address) gets its own error and the batch is still 200. With \`callback_url\`, the final answer is also POSTed there once every item has finished. Waits up to \`SYNC_TIMEOUT_MS\` for every item; past it, or with \`"async": true\`, 202 with a batch job (\`b-…\`) to poll on \`GET /jobs/{id}\`. Authentication and one unit of \`RATE_LIMIT_PER_MIN\` are checked before the body is read, the other items' units once their number is known.`,
    tags: ['detection'],
    security,
    parameters: uploadParameters(),
    requestBody: {
      required: true,
      content: {
        ...json('BatchRequest'),
        'multipart/form-data': {
          schema: batchFormSchema(),
          encoding: { file: { contentType: 'image/*, application/octet-stream' } },
        },
      },
    },
    responses: {
      '200': {
        description: 'Every item finished; failed items carry their own error.',
        content: json('BatchSuccess'),
      },
      '202': { description: 'Accepted: poll `status_url` for the items.', content: json('DetectPending') },
      '400': failure(
        'Invalid batch: not a JSON object, `items` missing, empty or longer than `MAX_BATCH_ITEMS`, a form with no `file` part or more than `MAX_BATCH_ITEMS`, a shared option that breaks its rule, an item with its own `callback_url`, or a raw image body (a batch is JSON or a form).',
      ),
      '401': failure('Missing or invalid API key (only when the service has `API_KEYS`).'),
      '413': failure(
        'The body exceeds `MAX_BODY_BYTES` (an image over `MAX_IMAGE_BYTES` fails as its own item instead).',
      ),
      '415': failure('The body comes in a `Content-Encoding` the gateway does not decode.'),
      '429': {
        ...failure(
          'Too many requests: the batch, counted as one request per item, would pass `RATE_LIMIT_PER_MIN`; refused whole before any item runs.',
        ),
        headers: retryAfter,
      },
      '500': failure('Unexpected error; details are in the service log under the X-Request-Id.'),
      '503': { ...failure('The job queue (Redis) is unavailable.'), headers: retryAfter },
    },
  };
}
