/** What a refused picture's answer tells the client to send instead: the formats the decoder reads. */
export const IMAGE_FORMATS_HINT = 'send a JPEG, PNG, WebP, GIF, TIFF, BMP or AVIF image';
