import type { z } from 'zod';
import type {
  batchItemSchema,
  batchStatusAnswerSchema,
  batchSuccessSchema,
  detectPendingSchema,
  detectSuccessSchema,
  errorAnswerSchema,
  facesObjSchema,
  frameFacesSchema,
  jobProgressSchema,
  jobStatusAnswerSchema,
  pointSchema,
  poseSchema,
  qualitySchema,
  regionSchema,
  trackSchema,
} from './api-schemas.js';

/**
 * The HTTP answer, exactly as clients of the original commercial API read it. Field names are part of
 * the contract: do not rename them. The types come from the schemas in api-schemas.ts, which also
 * generate the OpenAPI document.
 */

/** `[x, y]` in integer pixels of the displayed image. */
export type Point = z.infer<typeof pointSchema>;

/** `[x, y, w, h]` in integer pixels of the displayed image. */
export type Region = z.infer<typeof regionSchema>;

export type FrameFaces = z.infer<typeof frameFacesSchema>;

export type Pose = z.infer<typeof poseSchema>;

export type Quality = z.infer<typeof qualitySchema>;

export type FacesObj = z.infer<typeof facesObjSchema>;

export type Track = z.infer<typeof trackSchema>;

export type DetectSuccess = z.infer<typeof detectSuccessSchema>;

export type DetectPending = z.infer<typeof detectPendingSchema>;

export type ErrorAnswer = z.infer<typeof errorAnswerSchema>;

export type JobProgress = z.infer<typeof jobProgressSchema>;

export type JobStatusAnswer = z.infer<typeof jobStatusAnswerSchema>;

export type BatchItem = z.infer<typeof batchItemSchema>;

export type BatchSuccess = z.infer<typeof batchSuccessSchema>;

export type BatchStatusAnswer = z.infer<typeof batchStatusAnswerSchema>;

export const MESSAGES = {
  missingMedia: "Either 'url' or 'img' parameter must be provided",
  invalidUrl: 'Invalid URL format',
  downloadFailed: 'Failed to download media from URL',
} as const;
