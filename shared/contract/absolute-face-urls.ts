import type { FacesObj, Track } from './api-contract.js';

const absolute = (url: string, base: string) => (url.startsWith('/') ? base + url : url);

/**
 * Crops on local disk get gateway-relative URLs (`/crops/…`), since a worker cannot know how clients reach
 * the gateway. Clients expect absolute URLs, so whatever hands an answer out (the gateway's replies, the
 * worker's callbacks) completes them with the gateway's public base.
 */
export function absolutizeFaceUrls(facesObj: FacesObj, base: string): FacesObj {
  const out: FacesObj = {};
  for (const [key, frame] of Object.entries(facesObj)) {
    out[key] = frame.face_urls
      ? { ...frame, face_urls: frame.face_urls.map((u) => absolute(u, base)) }
      : frame;
  }
  return out;
}

/** The same for the crops of tracks' best faces; null (an image's) stays null. */
export function absolutizeTrackUrls(tracks: readonly Track[] | null, base: string): Track[] | null {
  if (!tracks) return null;
  return tracks.map((t) =>
    t.best.face_url === null ? t : { ...t, best: { ...t.best, face_url: absolute(t.best.face_url, base) } },
  );
}
