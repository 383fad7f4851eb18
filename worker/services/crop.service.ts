import type { FrameFaces, Point, Region } from '../../shared/contract/api-contract.js';
import type { Crop, CropStorage } from '../../shared/storage/crop-storage.js';
import type { CropLinkSigner } from '../../shared/storage/crop-link-signer.js';
import { expandRegion, relativeTo } from '../detection/crop-geometry.js';
import type { RawImage } from '../detection/face-types.js';
import type { ImageDecoder } from '../media/image-decoder.repository.js';

/**
 * `return_face_url`: cuts every face of a frame out of the displayed pixels (box grown by `expand_ratio`),
 * stores the JPEGs and fills the frame's `face_urls`, `crop_region` and `crop_landmarks`. Crops are encoded
 * as each frame is done, so a video never holds more than one frame's pixels for this.
 */
export class CropService {
  constructor(
    private readonly decoder: ImageDecoder,
    private readonly storage: CropStorage,
    private readonly links: Pick<CropLinkSigner, 'sign'>,
  ) {}

  /**
   * `frame`'s regions are in `displayed` coordinates; `pixels` is that picture, at that size or scaled
   * down (a bounded video frame), in which case each crop is scaled back up to its region's size.
   */
  async cropFrame(
    jobId: string,
    frameKey: string,
    frame: FrameFaces,
    pixels: RawImage,
    expandRatio: number,
    displayed: { width: number; height: number } = pixels,
  ): Promise<void> {
    const { regions, urls } = await this.cropFaces(
      jobId,
      frameKey,
      frame.region,
      pixels,
      expandRatio,
      displayed,
    );
    frame.face_urls = urls;
    frame.crop_region = regions;
    frame.crop_landmarks = frame.landmarks.map((points: Point[], i) => relativeTo(points, regions[i]!));
  }

  /**
   * Cuts the faces at `faceRegions` (in `displayed` coordinates) under the name `name`, numbered from
   * `first` in order (a crop of the same name and number is replaced): their grown regions and links.
   */
  async cropFaces(
    jobId: string,
    name: string,
    faceRegions: readonly Region[],
    pixels: RawImage,
    expandRatio: number,
    displayed: { width: number; height: number } = pixels,
    first = 0,
  ): Promise<{ regions: Region[]; urls: string[] }> {
    const regions: Region[] = faceRegions.map((r) =>
      expandRegion(r, expandRatio, displayed.width, displayed.height),
    );
    const sources = regions.map((r) => scaleRegion(r, pixels, displayed));
    const jpegs = await this.decoder.encodeCrops(pixels, sources, regions);
    const crops: Crop[] = jpegs.map((jpeg, face) => ({ frame: name, face: first + face, jpeg }));
    const keys = await this.storage.putCrops(jobId, crops);
    return { regions, urls: await Promise.all(keys.map((key) => this.links.sign(key))) };
  }
}

/** `region` of a `displayed`-sized picture, in the pixels of the same picture at `pixels`' size. */
function scaleRegion(
  [left, top, width, height]: Region,
  pixels: { width: number; height: number },
  displayed: { width: number; height: number },
): Region {
  if (pixels.width === displayed.width && pixels.height === displayed.height)
    return [left, top, width, height];
  const sx = pixels.width / displayed.width;
  const sy = pixels.height / displayed.height;
  const x = Math.min(pixels.width - 1, Math.floor(left * sx));
  const y = Math.min(pixels.height - 1, Math.floor(top * sy));
  return [
    x,
    y,
    Math.max(1, Math.min(pixels.width - x, Math.round(width * sx))),
    Math.max(1, Math.min(pixels.height - y, Math.round(height * sy))),
  ];
}
