import { z } from 'zod';
import { InvalidRequestError } from '../../shared/errors/errors.js';
import {
  checkOptions,
  detectRequestSchema,
  issuesMessage,
  type DetectRequest,
  type ImageUpload,
} from './detect-request.schema.js';

/** The JSON fields minus the media, which an upload carries itself. */
const optionsSchema = detectRequestSchema.omit({ url: true, img: true });
const MEDIA_FIELDS = new Set(['url', 'img']);

/** The JSON type each option takes, read off the schema, so a new option is coerced without a list here. */
const optionTypes = new Map(
  Object.entries(optionsSchema.shape).map(([name, field]) => {
    let def: z.core.$ZodTypeDef = field.def;
    while ('innerType' in def) def = (def.innerType as z.ZodType).def;
    return [name, def.type];
  }),
);

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * Text as JSON would have typed it: `true`/`false` for a boolean option, a decimal for a number option.
 * Anything else stays text, so the schema refuses it with the same message as a mistyped JSON field.
 */
export function coerceOption(name: string, value: string): unknown {
  const type = optionTypes.get(name);
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  if (type === 'number' && DECIMAL.test(value)) return Number(value);
  return value;
}

/**
 * Validates an upload's options, sent as query parameters or form fields (`[name, value]` in the order
 * sent), by the rules of the JSON fields. Unknown names are ignored, as unknown JSON fields are; a name
 * sent twice, or `url`/`img` beside an uploaded image, is refused rather than guessed at.
 */
export function parseUploadRequest(
  fields: readonly (readonly [string, string])[],
  upload: ImageUpload,
): DetectRequest {
  // A Map, so a field named __proto__ is data like any other.
  const options = new Map<string, unknown>();
  for (const [name, value] of fields) {
    if (MEDIA_FIELDS.has(name)) {
      throw new InvalidRequestError(
        `'${name}' cannot be sent with an uploaded image: send the image either as the upload or as '${name}'`,
      );
    }
    if (options.has(name)) {
      throw new InvalidRequestError(`'${name}' is sent more than once; send each option once`);
    }
    options.set(name, coerceOption(name, value));
  }
  const parsed = optionsSchema.safeParse(Object.fromEntries(options));
  if (!parsed.success) throw new InvalidRequestError(issuesMessage(parsed.error));
  checkOptions(parsed.data);
  return { ...parsed.data, media: 'upload', upload };
}
