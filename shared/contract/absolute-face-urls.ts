import type { FacesObj, Track } from './api-contract.js';

const absolute = (url: string, base: string) => (url.startsWith('/') ? base + url : url);

/**
 * Crops on local disk get gateway-relative URLs (`/crops/…`), since a worker cannot know how clients reach
 * the gateway. Clients expect absolute URLs, so whatever hands an answer out (the gateway's replies, the
 * worker's callbacks) completes them with the gateway's public base.
 */
function absolutizeFaceUrls(facesObj: FacesObj, base: string): FacesObj {
  const out: FacesObj = {};
  for (const [key, frame] of Object.entries(facesObj)) {
    out[key] = frame.face_urls
      ? { ...frame, face_urls: frame.face_urls.map((u) => absolute(u, base)) }
      : frame;
  }
  return out;
}

/** The same for the crops of tracks' best faces; null (an image's) stays null. */
function absolutizeTrackUrls(tracks: readonly Track[] | null, base: string): Track[] | null {
  if (!tracks) return null;
  return tracks.map((t) =>
    t.best.face_url === null ? t : { ...t, best: { ...t.best, face_url: absolute(t.best.face_url, base) } },
  );
}

/**
 * An answer's links, faces' and tracks' alike, completed with `base`: what every hand-out of an answer
 * (reply, poll, batch item, callback) calls. Absent tracks (an image's, or an older worker's) are null.
 */
export function absolutizeLinks(
  answer: { faces_obj: FacesObj; tracks?: readonly Track[] | null },
  base: string,
): { faces_obj: FacesObj; tracks: Track[] | null } {
  return {
    faces_obj: absolutizeFaceUrls(answer.faces_obj, base),
    tracks: absolutizeTrackUrls(answer.tracks ?? null, base),
  };
}
