import type { Detection } from './scoring.js';

/** One row of the table: a way of finding faces, asked the same questions on the same pictures. */
export interface Candidate {
  label: string;
  /** The score at which recall is read: what the service (or InsightFace) answers with by default. */
  recallThreshold: number;
  /** How auto_rotate was set for the accuracy figures, or that it does not apply. */
  autoRotateNote: string;
  /** Whether `autoRotate` changes anything (a baseline never turns the picture). */
  rotates: boolean;
  /** Every detection down to the low score the precision-recall curve needs. */
  detectAll(bytes: Buffer): Promise<Detection[]>;
  /** What a caller gets by default (at `recallThreshold`), with auto_rotate as asked. */
  detectDefault(bytes: Buffer, autoRotate: boolean): Promise<Detection[]>;
  /** Milliseconds of session.run in the last detectDefault call, summed over its runs. */
  lastRunMs(): number;
  close(): Promise<void>;
}
