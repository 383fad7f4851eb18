import { z } from 'zod';
import { ANSWER_SCHEMAS } from '../../shared/contract/api-schemas.js';
import { detectRequestSchema } from '../validation/detect-request.schema.js';
import type { JsonSchema, Parameter, ResponseObject } from './openapi-types.js';

/**
 * The document's schemas, made from the zod schemas the gateway validates and answers with, so that the
 * document cannot drift from what the code accepts and sends.
 */

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
export const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
/** An error answer, as every refusal and failure is. */
export const failure = (description: string): ResponseObject => ({
  description,
  content: json('ErrorAnswer'),
});
/** The header of the answers that ask the client to wait: 429 and 503. */
export const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } },
} satisfies ResponseObject['headers'];
/** The answer schemas, each a component under its name; the request schema is added apart (input side). */
export function answerSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(ANSWER_SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
    override: dropSafeIntegerBounds,
  });
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, embeddable(schema)]));
}

/**
 * The request body as the client writes it: the input side of the validating schema, so defaults show
 * and fields with defaults are optional.
 */
export function requestSchema(): JsonSchema {
  return {
    ...embeddable(z.toJSONSchema(detectRequestSchema, { io: 'input', override: dropSafeIntegerBounds })),
    description:
      'Send `url` or `img`; when both are sent, `url` wins. Types are strict (`"true"` is no boolean, `"5"` no integer); unknown fields are ignored.',
    anyOf: [{ required: ['url'] }, { required: ['img'] }],
  };
}

/** The options of a request, each as its JSON field has it: what an upload sends beside the image. */
export function optionSchemas(): Record<string, JsonSchema> {
  const { properties = {} } = z.toJSONSchema(detectRequestSchema.omit({ url: true, img: true }), {
    io: 'input',
    override: dropSafeIntegerBounds,
  });
  return Object.fromEntries(
    Object.entries(properties).flatMap(([name, prop]) => (typeof prop === 'boolean' ? [] : [[name, prop]])),
  );
}

/** The multipart form: the image in `file`, the options as fields. */
export function uploadFormSchema(): JsonSchema {
  return {
    type: 'object',
    description:
      'The image in a file part named `file` (exactly one), the options as fields, written as in a query string (`true`, `0.5`); the query parameters are read too, and a name sent twice is refused.',
    properties: {
      file: {
        type: 'string',
        contentMediaType: 'application/octet-stream',
        description: 'The image file; its bytes decide its format.',
      },
      ...optionSchemas(),
    },
    required: ['file'],
  };
}

/** The options as query parameters, read when the body is the image itself or a multipart form. */
export function uploadParameters(): Parameter[] {
  return Object.entries(optionSchemas()).map(([name, { description, ...schema }]) => ({
    name,
    in: 'query',
    required: false,
    description:
      `${description ?? ''} Read with an uploaded image (raw body or multipart), by the rules of the JSON field; a JSON body sends it as a field instead.`.trim(),
    schema,
  }));
}

/** zod bounds every integer to the safe range; JSON has no such limit and the bounds only add noise. */
function dropSafeIntegerBounds({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
}

/** A standalone schema made fit to sit inside the document: no dialect of its own, no fragment-only $id. */
function embeddable(schema: JsonSchema): JsonSchema {
  const copy = { ...schema };
  delete copy.$schema;
  delete copy.$id;
  return copy;
}
