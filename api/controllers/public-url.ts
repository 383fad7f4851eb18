import type { Request } from 'express';
import type { FacesObj } from '../../shared/contract/api-contract.js';

/** The base of absolute URLs in answers: PUBLIC_BASE_URL, else the scheme and host the client used. */
export function publicBase(req: Request, configured: string | undefined): string {
  return configured ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/**
 * Crops on local disk get gateway-relative URLs (`/crops/…`), since a worker cannot know how clients reach
 * the gateway. Clients expect absolute URLs, so the gateway completes them when it answers.
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
