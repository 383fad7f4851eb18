import type { RawImage } from './face-types.js';
import { planScales, type ScalePass, type ScalePlanOptions } from './scale-plan.js';

export type Resize = (image: RawImage, width: number, height: number) => Promise<RawImage>;

/**
 * One picture at every scale of its pass plan. The finest is given; each coarser one is halved from the
 * one above the first time a search asks for it, and kept, so searches at several turns resize only
 * once, and the first search's finest pass runs while the coarser pictures are made. Halving from the
 * pass above rather than the finest gives the same answers on the fixtures, for less CPU. A linear kernel
 * would save more, but costs the landmarks of large faces much of their accuracy on tilt (figures:
 * BENCHMARKS.md, "Measured behind the code").
 */
export class ImagePyramid {
  readonly passes: ScalePass[];
  private readonly images: Promise<RawImage>[] = [];

  /** `width`×`height` is the picture the faces are reported in; `finest` is it at `passes[0]`'s size. */
  constructor(
    readonly width: number,
    readonly height: number,
    passes: ScalePass[],
    readonly finest: RawImage,
    private readonly resize: Resize,
  ) {
    this.passes = passes;
    this.images[0] = Promise.resolve(finest);
  }

  /** A pyramid of `image` (a decoded frame), whose faces are reported in `width`×`height` pixels. */
  static async of(image: RawImage, width: number, height: number, plan: ScalePlanOptions, resize: Resize) {
    const passes = planScales(image.width, image.height, plan);
    const finest =
      passes[0]!.width === image.width && passes[0]!.height === image.height
        ? image
        : await resize(image, passes[0]!.width, passes[0]!.height);
    return new ImagePyramid(width, height, passes, finest, resize);
  }

  /**
   * The coarsest level in which `side` reported pixels still span at least `outSize` pixels, with its
   * scale: sampling a face from there at `outSize` shrinks by less than 2, so bilinear sampling does not
   * alias. The levels come from the passes, so this resizes nothing a search has not already.
   */
  async levelFor(side: number, outSize: number): Promise<{ image: RawImage; scale: number }> {
    let index = 0;
    while (index + 1 < this.passes.length && side * this.scaleOf(index + 1) >= outSize) index++;
    return { image: await this.image(index), scale: this.scaleOf(index) };
  }

  private scaleOf(index: number): number {
    return this.passes[index]!.width / this.width;
  }

  image(index: number): Promise<RawImage> {
    const pass = this.passes[index];
    if (!pass) throw new RangeError(`no pass ${index}`);
    this.images[index] ??= this.image(index - 1).then((above) => this.resize(above, pass.width, pass.height));
    return this.images[index];
  }
}
