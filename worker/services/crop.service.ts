import type { FrameFaces, Point, Region } from '../../shared/contract/api-contract.js';
import type { Crop, CropStorage } from '../../shared/storage/crop-storage.js';
import { expandRegion, relativeTo } from '../detection/crop-geometry.js';
import type { RawImage } from '../detection/input-tensor.js';
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
  ) {}

  /** `pixels` must be the frame at full displayed resolution. */
  async cropFrame(
    jobId: string,
    frameKey: string,
    frame: FrameFaces,
    pixels: RawImage,
    expandRatio: number,
  ): Promise<void> {
    const regions: Region[] = frame.region.map((r) =>
      expandRegion(r, expandRatio, pixels.width, pixels.height),
    );
    const jpegs = await this.decoder.encodeCrops(pixels, regions);
    const crops: Crop[] = jpegs.map((jpeg, face) => ({ frame: frameKey, face, jpeg }));
    frame.face_urls = await this.storage.putCrops(jobId, crops);
    frame.crop_region = regions;
    frame.crop_landmarks = frame.landmarks.map((points: Point[], i) => relativeTo(points, regions[i]!));
  }
}
