/** Raw interleaved 8-bit pixels as sharp or ffmpeg hand them over (RGB or RGBA). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export const alignUp = (v: number, multiple: number) => Math.ceil(v / multiple) * multiple;

/**
 * Builds YuNet's input: planar BGR float32 in 0–255, no normalisation, padded with zeros at the bottom and
 * right to a canvas whose sides are multiples of 32 (the model's largest stride). `mirror` flips the image
 * horizontally while copying, which costs nothing extra.
 */
export function toYunetTensor(
  img: RawImage,
  mirror = false,
): { tensor: Float32Array; width: number; height: number } {
  const cw = alignUp(img.width, 32);
  const ch = alignUp(img.height, 32);
  const plane = cw * ch;
  const out = new Float32Array(3 * plane);
  const { data, width, height, channels } = img;
  for (let y = 0; y < height; y++) {
    let src = y * width * channels;
    let dst = y * cw + (mirror ? width - 1 : 0);
    const step = mirror ? -1 : 1;
    for (let x = 0; x < width; x++, src += channels, dst += step) {
      out[dst] = data[src + 2]!;
      out[plane + dst] = data[src + 1]!;
      out[2 * plane + dst] = data[src]!;
    }
  }
  return { tensor: out, width: cw, height: ch };
}
