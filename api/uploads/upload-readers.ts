import busboy from 'busboy';
import type { Request } from 'express';
import type { Readable } from 'node:stream';
import getRawBody from 'raw-body';
import type { AppError } from '../../shared/errors/app-error.js';
import { InvalidRequestError, PayloadTooLargeError } from '../../shared/errors/errors.js';
import type { ImageUpload } from '../validation/detect-request.schema.js';

/** A byte limit and the setting it comes from, which answers name. */
export interface ByteLimit {
  bytes: number;
  setting: string;
}

/** An uploaded image and the options sent with it, as `[name, value]` in the order sent. */
export interface ReceivedUpload {
  image: ImageUpload;
  fields: [string, string][];
}

export const tooLarge = (what: string, limit: ByteLimit) =>
  new PayloadTooLargeError(
    `${what} is larger than the ${limit.bytes}-byte limit (${limit.setting}); send a smaller image or use 'url'`,
  );

/**
 * Reads a raw image body into one Buffer. A Content-Length above the limit is refused before a byte is
 * read; a body without one is counted as it streams and refused the moment it passes the limit.
 */
export async function readRawBody(req: Request, limit: ByteLimit): Promise<Buffer> {
  try {
    return await getRawBody(req, { length: req.get('content-length'), limit: limit.bytes });
  } catch (err) {
    throw rawBodyError(err, limit);
  }
}

function rawBodyError(err: unknown, limit: ByteLimit): unknown {
  const { type, expected, received } = err as { type?: string; expected?: number; received?: number };
  if (type === 'entity.too.large') {
    return received === undefined
      ? new PayloadTooLargeError(
          `The body declares ${expected} bytes (Content-Length), above the ${limit.bytes}-byte limit (${limit.setting}); send a smaller image or use 'url'`,
        )
      : tooLarge('The body', limit);
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
): Promise<ReceivedUpload> {
  const declared = Number(req.get('content-length'));
  if (declared > limits.body.bytes) {
    return Promise.reject(
      new PayloadTooLargeError(
        `The body declares ${declared} bytes (Content-Length), above the ${limits.body.bytes}-byte limit (${limits.body.setting}); send a smaller image or use 'url'`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    new FormReader(req, limits, query, resolve, reject).start();
  });
}

/** One multipart read: busboy's events turned into one result or the first refusal. */
class FormReader {
  private readonly fields: [string, string][];
  private image: ImageUpload | undefined;
  private received = 0;
  private settled = false;

  constructor(
    private readonly req: Request,
    private readonly limits: MultipartLimits,
    query: [string, string][],
    private readonly resolve: (upload: ReceivedUpload) => void,
    private readonly reject: (err: AppError) => void,
  ) {
    this.fields = [...query];
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
    this.req.on('data', this.count);
    this.req.pipe(parser);
  }

  private fail = (err: AppError): void => {
    if (this.settled) return;
    this.settled = true;
    // Only unpiped: destroying busboy inside its own event handlers breaks its state; unfed, it is freed.
    this.req.off('data', this.count);
    this.req.unpipe();
    this.req.pause();
    this.reject(err);
  };

  private finish = (): void => {
    if (this.settled) return;
    this.settled = true;
    if (this.image) this.resolve({ image: this.image, fields: this.fields });
    else this.reject(new InvalidRequestError("No 'file' part; send the image in a file part named 'file'"));
  };

  // busboy skips what lies outside the parts (preamble, epilogue) unbounded; this bounds the whole.
  private count = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (this.received > this.limits.body.bytes) this.fail(tooLarge('The body', this.limits.body));
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
