import busboy from 'busboy';
import type { Request } from 'express';
import type { Readable } from 'node:stream';
import type { AppError } from '../../shared/errors/app-error.js';
import { InvalidRequestError } from '../../shared/errors/errors.js';
import type { ImageUpload } from '../validation/detect-request.schema.js';
import { declaredTooLarge, tooLarge, type ByteLimit } from './byte-limits.js';
import { decodeBody, type ContentCoding, type DecodedBody } from './content-decoding.js';

/** What a form may hold besides its files: the options are a handful of short values. */
const FORM_LIMITS = { fields: 32, fieldSize: 8 * 1024, fieldNameSize: 100, headerPairs: 20 };
const FILE_PART = 'file';

export interface MultipartLimits {
  /** Each file part. */
  file: ByteLimit;
  /** The whole form, inflated when it comes with a content coding, and as sent. */
  body: ByteLimit;
}

/** How many file parts a form holds, and what a part over its limit spoils. */
export interface FilePolicy {
  maxFiles: number;
  /** The refusal of one file part more than `maxFiles`. */
  tooMany: () => AppError;
  /**
   * `form`: a part over the limit refuses the whole request (one upload). `part`: only that part is
   * refused, as its own item, and reading goes on (a batch), the whole body still bound by its limit.
   */
  oversized: 'form' | 'part';
  /** How answers name the part at `index`. */
  name: (index: number) => string;
}

/** A form's file parts in the order sent (or each one's refusal), and its options as `[name, value]`. */
export interface ReceivedForm {
  parts: (ImageUpload | AppError)[];
  fields: [string, string][];
}

/**
 * Reads a multipart/form-data body: file parts named `file`, and options as fields. Reading stops at the
 * first thing wrong with the form (a file too many, a part too large under `form`, the whole body too
 * large), so nothing past a limit is read; fields follow the query parameters in `fields`, so a name in
 * both counts twice.
 */
export function readMultipartForm(
  req: Request,
  limits: MultipartLimits,
  policy: FilePolicy,
  query: [string, string][],
  coding?: ContentCoding,
): Promise<ReceivedForm> {
  const declared = Number(req.get('content-length'));
  if (declared > limits.body.bytes) return Promise.reject(declaredTooLarge(declared, limits.body));
  return new Promise((resolve, reject) => {
    const decoded = coding ? decodeBody(req, coding, limits.body) : undefined;
    new FormReader(req, decoded, { limits, policy, query }, resolve, reject).start();
  });
}

/** One multipart read: busboy's events turned into one result or the first refusal. */
class FormReader {
  private readonly fields: [string, string][];
  /** The form as sent, or inflated when it comes with a content coding. */
  private readonly source: Readable;
  private readonly limits: MultipartLimits;
  private readonly policy: FilePolicy;
  private readonly parts: (ImageUpload | AppError | undefined)[] = [];
  private received = 0;
  private settled = false;

  constructor(
    private readonly req: Request,
    private readonly decoded: DecodedBody | undefined,
    form: { limits: MultipartLimits; policy: FilePolicy; query: [string, string][] },
    private readonly resolve: (form: ReceivedForm) => void,
    private readonly reject: (err: AppError) => void,
  ) {
    this.fields = [...form.query];
    this.limits = form.limits;
    this.policy = form.policy;
    this.source = decoded?.stream ?? req;
  }

  start(): void {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: this.req.headers,
        limits: { ...FORM_LIMITS, files: this.policy.maxFiles, fileSize: this.limits.file.bytes },
      });
    } catch (err) {
      this.fail(new InvalidRequestError(`The multipart body cannot be read: ${(err as Error).message}`));
      return;
    }
    parser.on('file', this.onFile);
    parser.on('field', this.onField);
    parser.on('filesLimit', () => this.fail(this.policy.tooMany()));
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
    const parts = this.parts.filter((part) => part !== undefined);
    if (parts.length > 0 && parts.length === this.parts.length) this.resolve({ parts, fields: this.fields });
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
    const index = this.parts.push(undefined) - 1;
    const partName = this.policy.name(index);
    const chunks: Buffer[] = [];
    let over = false;
    stream.on('data', (chunk: Buffer) => {
      if (!over) chunks.push(chunk);
    });
    stream.on('limit', () => {
      over = true;
      chunks.length = 0;
      if (this.policy.oversized === 'form') this.fail(tooLarge(partName, this.limits.file));
    });
    stream.on('end', () => {
      this.parts[index] = over
        ? tooLarge(partName, this.limits.file)
        : { bytes: Buffer.concat(chunks), declaredType: info.mimeType, name: partName };
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
