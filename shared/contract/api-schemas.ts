import { z } from 'zod';

/**
 * The HTTP answers as zod schemas. The contract's TypeScript types are inferred from them
 * (api-contract.ts) and the OpenAPI document is generated from them, so code, types and document cannot
 * disagree. Objects are strict: an answer carries exactly these fields.
 */

const pixel = z.int();

const pointSchema = z.tuple([pixel, pixel]).describe('`[x, y]` in integer pixels of the displayed image.');

const regionSchema = z
  .tuple([pixel, pixel, pixel, pixel])
  .describe('`[x, y, w, h]` in integer pixels of the displayed image.');

const degrees = (what: string) => z.number().min(-180).max(180).describe(what);
const unit = (what: string) => z.number().min(0).max(1).describe(what);

export const poseSchema = z
  .strictObject({
    yaw: degrees('Degrees; positive when the face turns toward image-right.'),
    pitch: degrees('Degrees; positive when the face tilts up.'),
    roll: degrees(
      'Degrees the face is turned from upright, positive clockwise as seen in the picture; ±180 upside down.',
    ),
  })
  .describe('Head pose, fitted from the five landmarks to a generic 3-D face: expect ±10° near frontal.');

export const qualitySchema = z
  .strictObject({
    sharpness: unit(
      'Focus of the face at 64×64: 0 a smear, 1 crisp. Below about 0.3 a face is too blurred for recognition.',
    ),
    brightness: unit('Mean luma of the face: 0 black, 1 white. About 0.15–0.85 is usable.'),
  })
  .describe('Image quality of the face region.');

const frameFacesSchema = z
  .strictObject({
    landmarks: z
      .array(z.array(pointSchema))
      .describe(
        "Per face: left eye, right eye, nose tip, mouth centre, left mouth corner, right mouth corner, in the subject's order: left is image-left with the face seen upright, whatever the picture's turn.",
      ),
    landmarks_str: z
      .array(z.string())
      .describe('Per face: the first four landmarks as `"x1,y1:x2,y2:x3,y3:x4,y4"`.'),
    region: z.array(regionSchema).describe('Per face: its box.'),
    scores: z.array(z.number().min(0).max(1)).describe('Per face: detection confidence.'),
    face_ids: z
      .array(z.int().min(0))
      .describe('Per face: an id that stays with the same person across the frames of a video.'),
    removed: z.array(z.int().min(0)).describe('Ids seen in the previous sampled frame and gone in this one.'),
    frame_time: z
      .number()
      .min(0)
      .nullable()
      .describe('Presentation time in seconds (videos); null for images.'),
    face_urls: z
      .array(z.string())
      .nullable()
      .describe('Per face: URL of a cropped JPEG, when `return_face_url` was set; else null.'),
    crop_region: z
      .array(regionSchema)
      .nullable()
      .describe('Per face: the cropped area (the box grown by `expand_ratio`), with `face_urls`.'),
    crop_landmarks: z
      .array(z.array(pointSchema))
      .nullable()
      .describe('Per face: the landmarks in pixels of its crop, with `face_urls`.'),
    pose: z.array(poseSchema).describe('Per face: head pose.'),
    quality: z.array(qualitySchema).describe('Per face: sharpness and brightness.'),
    rotation: z
      .union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)])
      .describe(
        'The clockwise quarter turn applied to the picture to find its faces upright (`auto_rotate`); 0 when it is upright or `auto_rotate` is off. Coordinates are always in the picture as sent.',
      ),
  })
  .describe('The faces of one frame. Every per-face array lists faces by area, largest first.');

const facesObjSchema = z
  .record(z.string().regex(/^\d+$/), frameFacesSchema)
  .describe("Frames by source frame index: `'0'` for an image, the sampled frames' indices for a video.");

const trackBestSchema = z
  .strictObject({
    frame: z.string().regex(/^\d+$/).describe('The key in `faces_obj` of the frame it was taken from.'),
    region: regionSchema,
    landmarks: z.array(pointSchema).describe('As in `faces_obj`: six points.'),
    landmarks_str: z.string().describe('The first four landmarks as `"x1,y1:x2,y2:x3,y3:x4,y4"`.'),
    score: unit('Detection confidence.'),
    usability: unit(
      'How usable the face is for a face swap: size, sharpness, lighting and frontality combined (README, "Tracks").',
    ),
    pose: poseSchema,
    quality: qualitySchema,
    face_url: z
      .string()
      .nullable()
      .describe(
        "That frame's crop of the face, when `return_face_url` was set and the face is in `faces_obj`; else null.",
      ),
  })
  .describe("The track's most usable face.");

const trackSchema = z
  .strictObject({
    face_id: z.int().min(0).describe('The id, as the tracker gave it to every face of the track.'),
    first_time: z.number().min(0).describe('`frame_time` of the first sampled frame the face is in.'),
    last_time: z.number().min(0).describe('`frame_time` of the last sampled frame the face is in.'),
    frames: z
      .array(z.string().regex(/^\d+$/))
      .describe('Keys of `faces_obj` of the frames it is in, in order.'),
    best: trackBestSchema,
  })
  .describe(
    'One face followed across the sampled frames. Built from every face found, whatever `single_face`, `face_select` or `max_faces` kept in `faces_obj`.',
  );

const detectSuccessSchema = z
  .strictObject({
    error_code: z.literal(0),
    error_msg: z.literal('SUCCESS'),
    job_id: z.string(),
    faces_obj: facesObjSchema,
    tracks: z
      .array(trackSchema)
      .nullable()
      .describe('Videos: one entry per face id, by id. Null for images.'),
  })
  .describe('The faces found. No face is still a success.');

const detectPendingSchema = z
  .strictObject({
    error_code: z.literal(0),
    error_msg: z.literal('PENDING'),
    job_id: z.string(),
    status_url: z.url().describe('Poll it (GET) until the job completes or fails.'),
  })
  .describe('Accepted: the job runs in the background.');

const errorAnswerSchema = z
  .strictObject({
    error_code: z.literal(1),
    error_msg: z.string().min(1).describe('What went wrong and what to do about it, in plain words.'),
    faces_obj: z.record(z.string(), z.never()).describe('Always empty.'),
  })
  .describe('A request that failed.');

const jobStatusSchema = z.enum(['waiting', 'active', 'completed', 'failed']);

const jobProgressSchema = z.strictObject({
  frames_done: z.int().min(0),
  frames_total: z.int().min(0),
});

const jobStatusAnswerSchema = z
  .strictObject({
    job_id: z.string(),
    status: jobStatusSchema,
    progress: jobProgressSchema.nullable().describe('Frames processed so far (videos); null before any.'),
    result: detectSuccessSchema.nullable().describe('The answer, once the job completed.'),
    error_code: z.literal(1).optional().describe('Present when the job failed.'),
    error_msg: z.string().optional().describe('Why the job failed, when it did.'),
  })
  .describe('Where a job stands.');

const healthAnswerSchema = z
  .strictObject({ status: z.literal('ok') })
  .describe('The process is up; says nothing of Redis or workers.');

const readinessAnswerSchema = z
  .strictObject({
    status: z.enum(['ready', 'not ready']),
    checks: z.record(
      z.string(),
      z.strictObject({
        ok: z.boolean(),
        count: z
          .number()
          .int()
          .optional()
          .describe('How many there are, for checks that count: worker processes, model threads.'),
        error: z.string().optional().describe('Why the check failed.'),
      }),
    ),
  })
  .describe('Whether every dependency answers, check by check.');

const batchItemSchema = z
  .strictObject({
    status: z.int().describe('The HTTP status this item would get sent alone to POST /detect.'),
    error_code: z.union([z.literal(0), z.literal(1)]),
    error_msg: z.string().min(1),
    faces_obj: facesObjSchema,
    tracks: z.unknown().nullable().describe('What the item answer carries for videos; null for images.'),
  })
  .describe('One item of a batch: its own answer, whether it succeeded, failed or is still running.');

const batchSuccessSchema = z
  .strictObject({
    error_code: z.literal(0),
    error_msg: z.literal('SUCCESS'),
    job_id: z.string().describe('The batch job, `b-…`; GET /jobs/{id} reads it.'),
    items: z.array(batchItemSchema).describe('One per item, in request order.'),
  })
  .describe('Every item of the batch has finished; a failed item is still a 200 batch.');

const batchStatusAnswerSchema = z
  .strictObject({
    job_id: z.string(),
    status: z.enum(['active', 'completed']),
    progress: z.strictObject({ done: z.int().min(0), total: z.int().min(1) }),
    items: z
      .array(batchItemSchema.nullable())
      .describe('Finished items in request order; null while running.'),
    result: batchSuccessSchema.nullable().describe('The answer, once every item finished.'),
  })
  .describe('Where a batch job stands.');

/**
 * The answers under their names: the contract's types (api-contract.ts) and the OpenAPI document's
 * components, in the document's order. Pose and quality have no component: they stand inside the faces.
 */
export const ANSWER_SCHEMAS = {
  Point: pointSchema,
  Region: regionSchema,
  FrameFaces: frameFacesSchema,
  FacesObj: facesObjSchema,
  Track: trackSchema,
  TrackBest: trackBestSchema,
  DetectSuccess: detectSuccessSchema,
  DetectPending: detectPendingSchema,
  ErrorAnswer: errorAnswerSchema,
  JobStatus: jobStatusSchema,
  JobProgress: jobProgressSchema,
  JobStatusAnswer: jobStatusAnswerSchema,
  BatchItem: batchItemSchema,
  BatchSuccess: batchSuccessSchema,
  BatchStatusAnswer: batchStatusAnswerSchema,
  HealthAnswer: healthAnswerSchema,
  ReadinessAnswer: readinessAnswerSchema,
};
