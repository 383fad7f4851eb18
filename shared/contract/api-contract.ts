/**
 * The HTTP answer, exactly as clients of the original commercial API read it. Field names are part of
 * the contract: do not rename them.
 */

/** `[x, y]` in integer pixels of the displayed image. */
export type Point = [number, number];

/** `[x, y, w, h]` in integer pixels of the displayed image. */
export type Region = [number, number, number, number];

export interface FrameFaces {
  /** Per face: left eye, right eye, nose tip, mouth centre, left mouth corner, right mouth corner. */
  landmarks: Point[][];
  /** Per face: the first four landmarks as `"x1,y1:x2,y2:x3,y3:x4,y4"`. */
  landmarks_str: string[];
  region: Region[];
  scores: number[];
  face_ids: number[];
  /** Ids seen in the previous sampled frame and gone in this one. */
  removed: number[];
  /** Presentation time in seconds (videos); null for images. */
  frame_time: number | null;
  face_urls: string[] | null;
  crop_region: Region[] | null;
  crop_landmarks: Point[][] | null;
}

export type FacesObj = Record<string, FrameFaces>;

export interface DetectSuccess {
  error_code: 0;
  error_msg: 'SUCCESS';
  job_id: string;
  faces_obj: FacesObj;
}

export interface DetectPending {
  error_code: 0;
  error_msg: 'PENDING';
  job_id: string;
  status_url: string;
}

export interface ErrorAnswer {
  error_code: 1;
  error_msg: string;
  faces_obj: Record<string, never>;
}

export type JobStatus = 'waiting' | 'active' | 'completed' | 'failed';

export interface JobProgress {
  frames_done: number;
  frames_total: number;
}

export interface JobStatusAnswer {
  job_id: string;
  status: JobStatus;
  progress: JobProgress | null;
  result: DetectSuccess | null;
  error_code?: 1;
  error_msg?: string;
}

export const MESSAGES = {
  missingMedia: "Either 'url' or 'img' parameter must be provided",
  invalidUrl: 'Invalid URL format',
  downloadFailed: 'Failed to download media from URL',
} as const;
