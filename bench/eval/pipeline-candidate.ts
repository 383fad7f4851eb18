import type { Config } from '../../shared/config/config.js';
import { InProcessPipeline } from '../inprocess.js';
import type { Candidate } from './candidate.js';
import type { Detection } from './scoring.js';

/** The lowest score kept for the precision-recall curve, as scripts/crowd-ap.mjs has always used. */
export const PIPELINE_AP_FLOOR = 0.05;

const toDetections = (faces: readonly { x: number; y: number; w: number; h: number; score: number }[]) =>
  faces.map((f): Detection => ({ box: [f.x, f.y, f.w, f.h], score: f.score }));

/**
 * This service's pipeline, in process, twice: once with the score threshold lowered for AP, once as
 * configured by default (for recall at the default threshold, CPU and the model's share of it).
 */
export class PipelineCandidate implements Candidate {
  readonly rotates = true;
  private runSeconds = 0;
  private lastRun = 0;

  private constructor(
    readonly label: string,
    private readonly low: InProcessPipeline,
    private readonly standard: InProcessPipeline,
    private readonly config: Config,
  ) {}

  static async start(label: string, lowConfig: Config, defaultConfig: Config): Promise<PipelineCandidate> {
    const low = await InProcessPipeline.start(lowConfig);
    // The standard pipeline reports its model runs to the candidate made from it.
    const listener: { to?: PipelineCandidate } = {};
    const standard = await InProcessPipeline.start(defaultConfig, (s) => listener.to?.heard(s));
    listener.to = new PipelineCandidate(label, low, standard, defaultConfig);
    return listener.to;
  }

  get recallThreshold(): number {
    return this.config.detector.scoreThreshold;
  }

  get autoRotateNote(): string {
    return `auto_rotate ${this.config.detector.autoRotate ? 'on' : 'off'} (the service default)`;
  }

  private heard(seconds: number): void {
    this.runSeconds += seconds;
  }

  async detectAll(bytes: Buffer): Promise<Detection[]> {
    const { faces } = await this.low.detector.detectEncoded(bytes, {
      autoRotate: this.config.detector.autoRotate,
    });
    return toDetections(faces);
  }

  async detectDefault(bytes: Buffer, autoRotate: boolean): Promise<Detection[]> {
    const before = this.runSeconds;
    const { faces } = await this.standard.detector.detectEncoded(bytes, { autoRotate });
    this.lastRun = (this.runSeconds - before) * 1000;
    return toDetections(faces);
  }

  lastRunMs(): number {
    return this.lastRun;
  }

  async close(): Promise<void> {
    await this.low.close();
    await this.standard.close();
  }
}
