import type { ByteSource } from '../../worker/video/byte-source.js';

/** Bytes in memory as a ByteSource, counting the reads made of it. */
export function bufferSource(bytes: Buffer): ByteSource & { reads: number } {
  return {
    size: bytes.length,
    reads: 0,
    read(offset: number, length: number) {
      this.reads += 1;
      return Promise.resolve(Buffer.from(bytes.subarray(offset, offset + length)));
    },
    close: () => Promise.resolve(),
  };
}
