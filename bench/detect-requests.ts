import { detectSender } from './http-load.js';

/** The forms a /detect request carries the bench's photo in. */
export const BODY_FORMS = ['base64', 'url', 'raw'] as const;
export type BodyForm = (typeof BODY_FORMS)[number];

export interface DetectTarget {
  serviceUrl: string;
  bytes: Buffer;
  /** Where the file server serves the photo, for the `url` form. */
  imageUrl: string;
  /** Faces the in-process pipeline found in the photo; the service must answer the same. */
  faces: number;
}

/**
 * Per body form, a maker of senders of the photo that check the face count. The bodies are prepared
 * once; each sender has a keep-alive agent of its own.
 */
export function photoSenders(target: DetectTarget): Record<BodyForm, () => () => Promise<void>> {
  const check = (answer: { faces_obj: Record<string, { region: number[][] }> }) => {
    const found = answer.faces_obj['0']?.region.length;
    if (found !== target.faces)
      throw new Error(`the service found ${found} faces, the in-process pipeline ${target.faces}`);
  };
  const url = `${target.serviceUrl}/detect`;
  const base64Body = JSON.stringify({ img: target.bytes.toString('base64') });
  const urlBody = JSON.stringify({ url: target.imageUrl });
  return {
    base64: () => detectSender(url, base64Body, check),
    url: () => detectSender(url, urlBody, check),
    raw: () => detectSender(url, target.bytes, check, 'image/jpeg'),
  };
}
