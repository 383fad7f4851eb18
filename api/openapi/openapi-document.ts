import {
  answerSchemas,
  failure,
  json,
  ref,
  requestSchema,
  retryAfter,
  uploadFormSchema,
  uploadParameters,
} from './openapi-schemas.js';
import { batchOperation, batchRequestSchema } from './batch-operation.js';
import type { OpenApiDocument, Operation } from './openapi-types.js';

const keyed: Operation['security'] = [{ bearerAuth: [] }, { apiKeyHeader: [] }];

function detectOperation(operationId: string, note: string): Operation {
  return {
    operationId,
    summary: 'Detect faces in an image or a video',
    description: `${note} Waits up to \`SYNC_TIMEOUT_MS\` (30 s by default) for the answer; a request not finished by then, or sent with \`"async": true\`, is answered 202 with a job to poll. Videos are accepted by \`url\` only; send them with \`"async": true\` and follow the progress on \`GET /jobs/{id}\`.`,
    tags: ['detection'],
    security: keyed,
    parameters: uploadParameters(),
    requestBody: {
      description:
        'JSON with `url` or `img`; or the image itself as the body (`image/*` or `application/octet-stream`, options as query parameters); or a `multipart/form-data` form with the image in `file`. An uploaded image may be up to `MAX_IMAGE_BYTES`; its bytes decide its format, whatever type is declared. Any of them may come compressed, with `Content-Encoding` gzip, deflate or br; the limits count the inflated bytes.',
      required: true,
      content: {
        ...json('DetectRequest'),
        'image/*': { schema: { type: 'string', contentMediaType: 'image/*' } },
        'application/octet-stream': {
          schema: { type: 'string', contentMediaType: 'application/octet-stream' },
        },
        'multipart/form-data': {
          schema: ref('DetectUploadForm'),
          encoding: { file: { contentType: 'image/*, application/octet-stream' } },
        },
      },
    },
    responses: {
      '200': { description: 'The faces found.', content: json('DetectSuccess') },
      '202': { description: 'Accepted: poll `status_url` for the answer.', content: json('DetectPending') },
      '400': failure(
        "Invalid request: a field or query parameter breaks its rule, the body is not JSON, neither 'url' nor 'img' is sent, the URL is not http(s), or a form has no `file` part, or more than one.",
      ),
      '401': failure('Missing or invalid API key (only when the service has `API_KEYS`).'),
      '413': failure(
        'Too large: the body exceeds `MAX_BODY_BYTES`, the image `MAX_IMAGE_BYTES` (an upload is refused as soon as it passes it, or at once when its Content-Length does), or the video `MAX_VIDEO_BYTES`.',
      ),
      '415': failure(
        'The body comes in a `Content-Encoding` other than gzip, deflate, br or identity (one coding, not stacked), named in the answer.',
      ),
      '422': failure(
        'Not decodable media: a web page, a corrupt file, or data that is not what it claims; an upload that holds no supported image, or a video (videos go by `url`); a video that changed while it was read by range.',
      ),
      '429': {
        ...failure(
          'Too many requests: more than `RATE_LIMIT_PER_MIN` per minute for this API key (or address).',
        ),
        headers: retryAfter,
      },
      '500': failure('Unexpected error; details are in the service log under the X-Request-Id.'),
      '502': failure('Downloading the URL or storing the crops failed.'),
      '503': {
        ...failure('The job queue (Redis) is unavailable, or holds `MAX_QUEUE_DEPTH` waiting jobs.'),
        headers: retryAfter,
      },
    },
  };
}

const TAGS: OpenApiDocument['tags'] = [
  { name: 'detection', description: 'Find faces and follow jobs.' },
  {
    name: 'operations',
    description: 'Health and readiness, for orchestrators; metrics are on GATEWAY_METRICS_PORT, not here.',
  },
  { name: 'crops', description: 'Face crops kept on the local disk.' },
];

/** The two ways to send an API key. */
const SECURITY_SCHEMES: OpenApiDocument['components']['securitySchemes'] = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    description:
      '`Authorization: Bearer <key>` (the bare key is accepted too). Takes precedence: when both `Authorization` and `x-api-key` are sent, `Authorization` alone decides, even if only `x-api-key` holds a valid key.',
  },
  apiKeyHeader: {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
    description: '`x-api-key: <key>`. Read only when no `Authorization` header is sent.',
  },
};

/** The OpenAPI 3.1 document of the public HTTP API, built from the schemas that validate and type it. */
export function buildOpenApiDocument(version: string): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'facedetect',
      version,
      description:
        'Self-hosted face detection: boxes, six landmarks, scores, face ids that follow people across video frames, and optional crops. Every answer is JSON with `error_code` (0 or 1) and `error_msg`. Authentication applies only when the service is started with `API_KEYS`; then send a key in `Authorization` or in `x-api-key`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: TAGS,
    paths: {
      '/detect': {
        post: detectOperation(
          'detect',
          'Finds the faces in an image (`img`, `url`, or uploaded as the body or in a form) or a video (`url`).',
        ),
      },
      '/interface/detect-api/detect_faces': {
        post: detectOperation(
          'detectFaces',
          'The same as `POST /detect`, at the path of the original commercial API.',
        ),
      },
      '/detect/batch': {
        post: batchOperation('detectBatch', 'Several images or videos in one call.', keyed),
      },
      '/interface/detect-api/detect_faces_batch': {
        post: batchOperation(
          'detectFacesBatch',
          'The same as `POST /detect/batch`, in the path style of the original commercial API.',
          keyed,
        ),
      },
      '/jobs/{id}': { get: jobOperation() },
      '/healthz': { get: healthOperation() },
      '/readyz': { get: readyOperation() },
      '/crops/{path}': { get: cropOperation() },
    },
    components: {
      schemas: {
        DetectRequest: requestSchema(),
        DetectUploadForm: uploadFormSchema(),
        BatchRequest: batchRequestSchema(),
        ...answerSchemas(),
      },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

/** GET /jobs/{id}: a job polled by its id, detect and batch jobs alike. */
function jobOperation(): Operation {
  return {
    operationId: 'getJob',
    summary: 'Where a job stands, and its answer once done',
    description: `Poll the \`status_url\` of a 202 answer until \`status\` is \`completed\` (the answer is in \`result\`) or \`failed\` (the reason is in \`error_msg\`). Results are kept for \`RESULT_TTL_S\` (a day by default). With API keys, a job is readable only with the key that submitted it.`,
    tags: ['detection'],
    security: keyed,
    parameters: [
      {
        name: 'id',
        in: 'path',
        required: true,
        description: 'The `job_id` a detect or batch request returned.',
        schema: { type: 'string' },
      },
    ],
    responses: {
      '200': {
        description: 'The job, by status; a batch job (`b-…`) answers with its progress and items.',
        content: {
          'application/json': { schema: { oneOf: [ref('JobStatusAnswer'), ref('BatchStatusAnswer')] } },
        },
      },
      '401': failure('Missing or invalid API key (only when the service has `API_KEYS`).'),
      '404': failure(
        'No such job, its result expired, or it belongs to another API key (answered the same way, so ids do not leak).',
      ),
      '429': {
        ...failure('Too many requests: polls count against `RATE_LIMIT_PER_MIN` too.'),
        headers: retryAfter,
      },
      '500': failure('Unexpected error.'),
      '503': { ...failure('The job queue (Redis) is unavailable.'), headers: retryAfter },
    },
  };
}

/** GET /healthz: liveness. */
function healthOperation(): Operation {
  return {
    operationId: 'health',
    summary: 'Liveness',
    description: 'Answers as long as the process serves HTTP. Needs no API key.',
    tags: ['operations'],
    responses: { '200': { description: 'Alive.', content: json('HealthAnswer') } },
  };
}

/** GET /readyz: readiness, check by check. */
function readyOperation(): Operation {
  return {
    operationId: 'ready',
    summary: 'Readiness',
    description:
      'Checks Redis, crop storage, and that at least one worker process takes jobs (with their count); in the all-in-one process also that the model is loaded. Needs no API key.',
    tags: ['operations'],
    responses: {
      '200': { description: 'Every check passed.', content: json('ReadinessAnswer') },
      '503': { description: 'A check failed; `checks` says which.', content: json('ReadinessAnswer') },
    },
  };
}

/** GET /crops/{path}: a crop behind its signed link. */
function cropOperation(): Operation {
  return {
    operationId: 'getCrop',
    summary: 'A face crop',
    description:
      'Serves the crops that `face_urls` point to, from local disk or from the S3 bucket alike. Each URL is a link the service signed (`exp` and `sig`): it needs no API key, works until `exp` (CROP_URL_TTL_S, 7 days by default), and nothing is served without a valid signature.',
    tags: ['crops'],
    parameters: [
      {
        name: 'path',
        in: 'path',
        required: true,
        description: 'The rest of the URL from `face_urls`, slashes included: `<day>/<job>/<file>.jpg`.',
        schema: { type: 'string' },
      },
      {
        name: 'exp',
        in: 'query',
        required: true,
        description: 'When the link expires, in Unix seconds; part of what is signed.',
        schema: { type: 'string', pattern: '^\\d{1,12}$' },
      },
      {
        name: 'sig',
        in: 'query',
        required: true,
        description: 'HMAC-SHA256 of the key and `exp` under the service’s CROP_URL_SECRET, base64url.',
        schema: { type: 'string' },
      },
    ],
    responses: {
      '200': {
        description: 'The JPEG.',
        headers: {
          'Cache-Control': {
            description: 'Private, for the crop’s remaining life.',
            schema: { type: 'string' },
          },
        },
        content: { 'image/jpeg': {} },
      },
      '403': failure('The link is not signed, its signature does not match, or it expired.'),
      '404': failure('No such crop any more.'),
    },
  };
}
