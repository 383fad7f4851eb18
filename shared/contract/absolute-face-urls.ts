import type { FacesObj } from './api-contract.js';

/**
 * Crops on local disk get gateway-relative URLs (`/crops/…`), since a worker cannot know how clients reach
 * the gateway. Clients expect absolute URLs, so whatever hands an answer out (the gateway's replies, the
 * worker's callbacks) completes them with the gateway's public base.
 */
export function absolutizeFaceUrls(facesObj: FacesObj, base: string): FacesObj {
  const out: FacesObj = {};
  for (const [key, frame] of Object.entries(facesObj)) {
    out[key] = frame.face_urls
      ? { ...frame, face_urls: frame.face_urls.map((u) => (u.startsWith('/') ? base + u : u)) }
      : frame;
  }
  return out;
}
