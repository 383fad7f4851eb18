/** What the first bytes of a file say it is; the bytes win over a URL's extension or a declared type. */
export type SniffedMedia =
  { kind: 'image'; format: string } | { kind: 'video'; format: string } | { kind: 'unknown' };

const ascii = (b: Uint8Array, start: number, end: number) => String.fromCharCode(...b.subarray(start, end));

const IMAGE_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1']);

export function sniffMedia(b: Uint8Array): SniffedMedia {
  if (b.length < 4) return { kind: 'unknown' };
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { kind: 'image', format: 'jpeg' };
  if (b[0] === 0x89 && ascii(b, 1, 4) === 'PNG') return { kind: 'image', format: 'png' };
  if (ascii(b, 0, 4) === 'GIF8') return { kind: 'image', format: 'gif' };
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*') return { kind: 'image', format: 'tiff' };
  if (ascii(b, 0, 2) === 'BM') return { kind: 'image', format: 'bmp' };
  if (ascii(b, 0, 4) === 'RIFF' && b.length >= 12) {
    const type = ascii(b, 8, 12);
    if (type === 'WEBP') return { kind: 'image', format: 'webp' };
    if (type === 'AVI ') return { kind: 'video', format: 'avi' };
  }
  if (b.length >= 12 && ascii(b, 4, 8) === 'ftyp') {
    const brand = ascii(b, 8, 12);
    return IMAGE_BRANDS.has(brand) ? { kind: 'image', format: brand } : { kind: 'video', format: 'mp4' };
  }
  if (b.length >= 8 && ['moov', 'mdat', 'free', 'wide', 'skip'].includes(ascii(b, 4, 8)))
    return { kind: 'video', format: 'mov' };
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3)
    return { kind: 'video', format: 'matroska' };
  if (ascii(b, 0, 3) === 'FLV') return { kind: 'video', format: 'flv' };
  if (ascii(b, 0, 4) === 'OggS') return { kind: 'video', format: 'ogg' };
  if (b[0] === 0x00 && b[1] === 0x00 && b[2] === 0x01 && (b[3] === 0xba || b[3] === 0xb3))
    return { kind: 'video', format: 'mpeg' };
  if (b[0] === 0x47 && b.length > 188 && b[188] === 0x47) return { kind: 'video', format: 'mpegts' };
  return { kind: 'unknown' };
}

const VIDEO_EXTENSIONS = new Set([
  'mp4',
  'mov',
  'm4v',
  'webm',
  'mkv',
  'avi',
  'flv',
  'wmv',
  'mpg',
  'mpeg',
  'ts',
  'm2ts',
  '3gp',
  'ogv',
]);

/**
 * The original API decides by the URL's extension first; this is the gateway's first guess of a URL's lane.
 * The worker's first look at the bytes moves a job that guessed wrong (see `LaneMove`).
 */
export function guessKindFromUrl(url: string): 'image' | 'video' {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return 'image';
  }
  const ext = pathname.toLowerCase().split('.').pop() ?? '';
  return VIDEO_EXTENSIONS.has(ext) ? 'video' : 'image';
}
