import { IMAGE_FORMATS_HINT } from '../../shared/media/image-formats.js';
import sharp from 'sharp';
import { PayloadTooLargeError, UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { Region } from '../../shared/contract/api-contract.js';
import type { RawImage } from '../detection/face-types.js';

export interface ImageDecoderOptions {
  /** Largest decoded image accepted, in pixels: the defence against decompression bombs. */
  maxPixels: number;
}

export interface ImageInfo {
  format: string;
  /** Size as a viewer sees it, after EXIF orientation. */
  width: number;
  height: number;
}

/** The refusal of a HEIF whose pictures are HEVC-coded, which sharp's libvips is built without (patents). */
export const HEIC_MESSAGE =
  "HEIC images (HEVC-coded, the iPhone's default) cannot be decoded here: the image library is built without HEVC; send a JPEG, PNG or AVIF instead (on an iPhone: Settings > Camera > Formats > Most Compatible)";

/** Formats a stranger may send. SVG, PDF and the like are refused: they render rather than decode. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif', 'jp2']);
const WHITE = { r: 255, g: 255, b: 255 };

/**
 * The one wrapper around sharp. Every image is read in its displayed orientation (EXIF applied), flattened
 * onto white, and converted to 8-bit sRGB, whatever its bit depth, colour space or alpha.
 */
export class ImageDecoder {
  constructor(private readonly options: ImageDecoderOptions) {}

  async probe(bytes: Buffer): Promise<ImageInfo> {
    if (bytes.length === 0)
      throw new UnsupportedMediaError(`The image is empty (0 bytes); ${IMAGE_FORMATS_HINT}`);
    // Reading the header decodes no pixels, so the limit is lifted here to report the image's size.
    const meta = await this.open(bytes, false)
      .metadata()
      .catch((err: unknown) => {
        throw this.translate(err);
      });
    if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) {
      throw new UnsupportedMediaError(
        `Images in ${meta.format?.toUpperCase() ?? 'this'} format are not accepted; ${IMAGE_FORMATS_HINT}`,
      );
    }
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!width || !height) throw new UnsupportedMediaError('The image has no dimensions; it is corrupt');
    if (width * height > this.options.maxPixels)
      throw tooManyImagePixels(width, height, this.options.maxPixels);
    return { format: meta.format, width, height };
  }

  /** Decodes the displayed image resized to exactly `width`×`height`, as 8-bit RGB. */
  async decode(bytes: Buffer, width: number, height: number): Promise<RawImage> {
    try {
      const { data, info } = await this.open(bytes)
        .resize(width, height, { fit: 'fill' })
        .flatten({ background: WHITE })
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, channels: info.channels };
    } catch (err) {
      throw this.translate(err);
    }
  }

  /**
   * Cuts each region out of decoded pixels and encodes it as a JPEG of exactly that size, or of the
   * matching `sizes` entry's size when the pixels are a scaled-down copy.
   */
  async encodeCrops(
    image: RawImage,
    regions: readonly Region[],
    sizes: readonly Region[] = regions,
    quality = 90,
  ): Promise<Buffer[]> {
    const raw = { width: image.width, height: image.height, channels: image.channels as 3 | 4 };
    return Promise.all(
      regions.map(([left, top, width, height], i) => {
        const [, , outWidth = width, outHeight = height] = sizes[i] ?? [];
        const crop = sharp(image.data, { raw }).extract({ left, top, width, height });
        const sized =
          outWidth === width && outHeight === height
            ? crop
            : crop.resize(outWidth, outHeight, { fit: 'fill' });
        return sized.jpeg({ quality, mozjpeg: false }).toBuffer();
      }),
    );
  }

  /** Resizes an already decoded image (a video frame, or a pass from the one above), without decoding again. */
  async resizeRaw(image: RawImage, width: number, height: number): Promise<RawImage> {
    const { data, info } = await sharp(image.data, {
      raw: { width: image.width, height: image.height, channels: image.channels as 3 | 4 },
    })
      .resize(width, height, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  }

  private open(bytes: Buffer, limitPixels = true) {
    return sharp(bytes, {
      failOn: 'warning',
      limitInputPixels: limitPixels ? this.options.maxPixels : false,
      autoOrient: true,
      pages: 1,
      // One pass from top to bottom: the pipeline never needs to read back, and libvips then decodes in
      // strips instead of caching the whole image, which costs less CPU (figures: BENCHMARKS.md, "Measured behind the code").
      sequentialRead: true,
    });
  }

  private translate(err: unknown): Error {
    const message = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(message)) {
      return new PayloadTooLargeError(
        `The image is larger than the ${this.options.maxPixels}-pixel limit (MAX_IMAGE_PIXELS); send a smaller image`,
      );
    }
    // A HEIF whose main brand is generic (mif1) may still hold HEVC pictures.
    if (/heif:.*(unsupported|no decoder|codec)/i.test(message))
      return new UnsupportedMediaError(HEIC_MESSAGE);
    // Every format the sniffer names an image libvips reads (BMP converted, HEVC refused before), so what
    // libvips cannot read is no image of ours.
    if (/unsupported image format/i.test(message)) {
      return new UnsupportedMediaError(
        `The data is not an image in a supported format; ${IMAGE_FORMATS_HINT}`,
      );
    }
    return new UnsupportedMediaError(
      'The image is truncated or corrupt and cannot be decoded; send the complete file',
      {
        cause: err,
      },
    );
  }
}

/** The one refusal of a picture over MAX_IMAGE_PIXELS, whether its header or the decoder tells. */
export function tooManyImagePixels(width: number, height: number, maxPixels: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `The image is ${width}x${height} = ${width * height} pixels, above the ${maxPixels}-pixel limit (MAX_IMAGE_PIXELS); send a smaller image`,
  );
}
