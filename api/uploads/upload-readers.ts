import busboy from 'busboy';
import type { Request } from 'express';
import type { Readable } from 'node:stream';
import getRawBody from 'raw-body';
import type { AppError } from '../../shared/errors/app-error.js';
import { InvalidRequestError } from '../../shared/errors/errors.js';
import type { ImageUpload } from '../validation/detect-request.schema.js';
import { declaredTooLarge, tooLarge, type ByteLimit } from './byte-limits.js';
import { decodeBody, type ContentCoding, type DecodedBody } from './content-decoding.js';

/** An uploaded image and the options sent with it, as `[name, value]` in the order sent. */
export interface ReceivedUpload {
  image: ImageUpload;
  fields: [string, string][];
}

/**
 * Reads a raw body into one Buffer. A Content-Length above the limit is refused before a byte is read; a
 * body without one is counted as it streams and refused the moment it passes the limit. A body with a
 * content coding counts against `limit` inflated, and against `wire` as sent. `what` names it in refusals.
 */
export async function readRawBody(
  req: Request,
  limit: ByteLimit,
  coding?: { name: ContentCoding; wire: ByteLimit },
  what = 'The body',
): Promise<Buffer> {
  if (!coding) {
    try {
      return await getRawBody(req, { length: req.get('content-length'), limit: limit.bytes });
    } catch (err) {
      throw rawBodyError(err, limit, what);
    }
  }
  const decoded = decodeBody(req, coding.name, coding.wire);
  try {
    return await getRawBody(decoded.stream, { limit: limit.bytes });
  } catch (err) {
    throw decoded.corruption(err, what) ?? rawBodyError(err, limit, `${what}, inflated,`);
  } finally {
    decoded.close();
  }
}

function rawBodyError(err: unknown, limit: ByteLimit, what: string): unknown {
  const { type, expected, received } = err as { type?: string; expected?: number; received?: number };
  if (type === 'entity.too.large') {
    return received === undefined ? declaredTooLarge(expected, limit) : tooLarge(what, limit);
  }
  if (type === 'request.size.invalid') {
    return new InvalidRequestError(
      `The body is ${received} bytes but its Content-Length says ${expected}; send the Content-Length of the image`,
    );
  }
  if (type === 'request.aborted') return new InvalidRequestError('The client aborted the upload');
  return err;
}

/** What a form may hold besides its file: the options are a handful of short values. */
const FORM_LIMITS = { fields: 32, fieldSize: 8 * 1024, fieldNameSize: 100, headerPairs: 20 };
const FILE_PART = 'file';
const FILE_NAME = "The 'file' part";

export interface MultipartLimits {
  file: ByteLimit;
  /** The whole form, inflated when it comes with a content coding, and as sent. */
  body: ByteLimit;
}

/**
 * Reads a multipart/form-data body: exactly one file part named `file`, and options as fields. Reading
 * stops at the first thing wrong (a second file, a part too large, the whole body too large), so nothing
 * past a limit is read; fields follow the query parameters in `fields`, so a name in both counts twice.
 */
export function readMultipart(
  req: Request,
  limits: MultipartLimits,
  query: [string, string][],
  coding?: ContentCoding,
): Promise<ReceivedUpload> {
  const declared = Number(req.get('content-length'));
  if (declared > limits.body.bytes) return Promise.reject(declaredTooLarge(declared, limits.body));
  return new Promise((resolve, reject) => {
    const decoded = coding ? decodeBody(req, coding, limits.body) : undefined;
    new FormReader(req, decoded, limits, query, resolve, reject).start();
  });
}

/** One multipart read: busboy's events turned into one result or the first refusal. */
class FormReader {
  private readonly fields: [string, string][];
  /** The form as sent, or inflated when it comes with a content coding. */
  private readonly source: Readable;
  private image: ImageUpload | undefined;
  private received = 0;
  private settled = false;

  constructor(
    private readonly req: Request,
    private readonly decoded: DecodedBody | undefined,
    private readonly limits: MultipartLimits,
    query: [string, string][],
    private readonly resolve: (upload: ReceivedUpload) => void,
    private readonly reject: (err: AppError) => void,
  ) {
    this.fields = [...query];
    this.source = decoded?.stream ?? req;
  }

  start(): void {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: this.req.headers,
        limits: { ...FORM_LIMITS, files: 1, fileSize: this.limits.file.bytes },
      });
    } catch (err) {
      this.fail(new InvalidRequestError(`The multipart body cannot be read: ${(err as Error).message}`));
      return;
    }
    parser.on('file', this.onFile);
    parser.on('field', this.onField);
    parser.on('filesLimit', () =>
      this.fail(new InvalidRequestError("More than one file part; send exactly one, named 'file'")),
    );
    parser.on('fieldsLimit', () =>
      this.fail(new InvalidRequestError(`More than ${FORM_LIMITS.fields} fields; send only the options`)),
    );
    parser.on('error', (err: Error) =>
      this.fail(new InvalidRequestError(`The multipart body is malformed: ${err.message}`)),
    );
    parser.on('close', this.finish);
    this.source.on('data', this.count);
    const decoded = this.decoded;
    // The decoder's errors: the form does not inflate, or a refusal of decodeBody's (an AppError).
    decoded?.stream.on('error', (err) =>
      this.fail(decoded.corruption(err, 'The multipart body') ?? (err as AppError)),
    );
    this.source.pipe(parser);
  }

  private fail = (err: AppError): void => {
    if (this.settled) return;
    this.settled = true;
    // Only unpiped: destroying busboy inside its own event handlers breaks its state; unfed, it is freed.
    this.source.off('data', this.count);
    this.source.unpipe();
    if (this.decoded) this.decoded.close();
    else this.req.pause();
    this.reject(err);
  };

  private finish = (): void => {
    if (this.settled) return;
    this.settled = true;
    this.decoded?.close();
    if (this.image) this.resolve({ image: this.image, fields: this.fields });
    else this.reject(new InvalidRequestError("No 'file' part; send the image in a file part named 'file'"));
  };

  // busboy skips what lies outside the parts (preamble, epilogue) unbounded; this bounds the whole, inflated.
  private count = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (this.received > this.limits.body.bytes)
      this.fail(tooLarge(this.decoded ? 'The body, inflated,' : 'The body', this.limits.body));
  };

  private onFile = (name: string, stream: Readable, info: busboy.FileInfo): void => {
    if (name !== FILE_PART) {
      this.fail(
        new InvalidRequestError(`Unexpected file part '${name}'; send the image in a part named 'file'`),
      );
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('limit', () => this.fail(tooLarge(FILE_NAME, this.limits.file)));
    stream.on('end', () => {
      this.image = { bytes: Buffer.concat(chunks), declaredType: info.mimeType, name: FILE_NAME };
    });
  };

  private onField = (name: string, value: string, info: busboy.FieldInfo): void => {
    if (info.nameTruncated || info.valueTruncated) {
      this.fail(
        new InvalidRequestError(
          `The field '${name}' is too long: names are at most ${FORM_LIMITS.fieldNameSize} bytes, values ${FORM_LIMITS.fieldSize}`,
        ),
      );
    } else if (name === FILE_PART) {
      this.fail(
        new InvalidRequestError(
          "'file' is sent as a text field; send the image as a file part, with a filename (curl -F file=@photo.jpg)",
        ),
      );
    } else this.fields.push([name, value]);
  };
}
