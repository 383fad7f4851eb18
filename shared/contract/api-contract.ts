import type { z } from 'zod';
import type { ANSWER_SCHEMAS, poseSchema, qualitySchema } from './api-schemas.js';

/**
 * The HTTP answer, exactly as clients of the original commercial API read it. Field names are part of
 * the contract: do not rename them. The types come from the schemas in api-schemas.ts, which also
 * generate the OpenAPI document.
 */

type Answer<Name extends keyof typeof ANSWER_SCHEMAS> = z.infer<(typeof ANSWER_SCHEMAS)[Name]>;

/** `[x, y]` in integer pixels of the displayed image. */
export type Point = Answer<'Point'>;

/** `[x, y, w, h]` in integer pixels of the displayed image. */
export type Region = Answer<'Region'>;

export type FrameFaces = Answer<'FrameFaces'>;

export type Pose = z.infer<typeof poseSchema>;

export type Quality = z.infer<typeof qualitySchema>;

export type FacesObj = Answer<'FacesObj'>;

export type Track = Answer<'Track'>;

export type DetectSuccess = Answer<'DetectSuccess'>;

export type DetectPending = Answer<'DetectPending'>;

export type ErrorAnswer = Answer<'ErrorAnswer'>;

export type JobProgress = Answer<'JobProgress'>;

export type JobStatusAnswer = Answer<'JobStatusAnswer'>;

export type BatchItem = Answer<'BatchItem'>;

export type BatchSuccess = Answer<'BatchSuccess'>;

export type BatchStatusAnswer = Answer<'BatchStatusAnswer'>;

export const MESSAGES = {
  missingMedia: "Either 'url' or 'img' parameter must be provided",
  invalidUrl: 'Invalid URL format',
  downloadFailed: 'Failed to download media from URL',
} as const;
