import type { BatchItem, FacesObj, Track } from '../contract/api-contract.js';

/** An item that failed, with the HTTP status the same request would have got alone. */
export function failedItem(status: number, message: string): BatchItem {
  return { status, error_code: 1, error_msg: message, faces_obj: {}, tracks: null };
}

/** An item that succeeded; `tracks` is null for an image, as in a single answer. */
export function succeededItem(faces: FacesObj, tracks: Track[] | null | undefined): BatchItem {
  return { status: 200, error_code: 0, error_msg: 'SUCCESS', faces_obj: faces, tracks: tracks ?? null };
}
