import { Worker } from 'node:worker_threads';
import { InferenceFailedError, ModelError } from '../../shared/errors/errors.js';
import type { Detector, DetectorInput } from '../detection/detector.js';
import type { FaceBox } from '../detection/face-types.js';
import { assertProviderAvailable } from './execution-provider.js';
import {
  DEFAULT_SESSION,
  type InferenceReply,
  type InferenceRequest,
  type SessionSettings,
  type ThreadInit,
  type ThreadReady,
} from './inference-protocol.js';

export interface InferencePoolOptions {
  /**
   * The model's thread entry: it loads `modelPath`, answers {@link InferenceRequest}s, and says when it is
   * ready (see ./thread-host.ts).
   */
  threadUrl: URL;
  modelPath: string;
  /**
   * Worker threads, each holding one onnxruntime session with one intra-op thread.
   * @defaultValue 1
   */
  threads?: number;
  /**
   * onnxruntime's options for every thread's session, whatever the model.
   * @defaultValue {@link DEFAULT_SESSION}
   */
  session?: SessionSettings;
  /** Called with the duration of every model run, in seconds (for metrics). */
  onRun?: (seconds: number) => void;
}

interface Task {
  req: Omit<InferenceRequest, 'id'>;
  resolve: (faces: FaceBox[][]) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  task?: Task & { id: number };
}

/**
 * A fixed set of inference threads and a FIFO of requests: the {@link Detector} the worker runs. Each
 * request (several scales or views of one picture) runs on one thread; different requests run in parallel
 * on different threads. A thread that dies fails only its own request and is replaced.
 */
export class InferencePool implements Detector {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(private readonly options: InferencePoolOptions) {}

  /** Starts every thread and waits until each has loaded the model; a missing or bad model rejects here. */
  static async start(options: InferencePoolOptions): Promise<InferencePool> {
    assertProviderAvailable(options.session ?? DEFAULT_SESSION);
    const pool = new InferencePool(options);
    try {
      await Promise.all(Array.from({ length: options.threads ?? 1 }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  detect(inputs: DetectorInput[], scoreThreshold: number): Promise<FaceBox[][]> {
    if (this.closed) return Promise.reject(new Error('inference pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { inputs, scoreThreshold }, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('inference pool is closed'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.options.threadUrl, {
        workerData: {
          modelPath: this.options.modelPath,
          session: this.options.session ?? DEFAULT_SESSION,
        } satisfies ThreadInit,
      });
      const slot: Slot = { worker };
      const onStartupExit = (code: number) =>
        reject(new ModelError(`inference thread exited with code ${code} at start`));
      worker.once('exit', onStartupExit);
      worker.once('message', (msg: ThreadReady) => {
        worker.off('exit', onStartupExit);
        if (!msg.ready) {
          void worker.terminate();
          reject(msg.code === 'MODEL_UNAVAILABLE' ? new ModelError(msg.message) : new Error(msg.message));
          return;
        }
        worker.on('message', (reply: InferenceReply) => this.onReply(slot, reply));
        worker.on('error', (err) => this.onCrash(slot, err));
        worker.on('exit', (code) =>
          this.onCrash(slot, new Error(`inference thread exited with code ${code}`)),
        );
        this.slots.push(slot);
        this.dispatch();
        resolve();
      });
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.task) continue;
      const task = this.queue.shift();
      if (!task) return;
      slot.task = { ...task, id: this.nextId++ };
      slot.worker.postMessage({ id: slot.task.id, ...task.req } satisfies InferenceRequest);
    }
  }

  private onReply(slot: Slot, reply: InferenceReply): void {
    const task = slot.task;
    if (!task || task.id !== reply.id) return;
    slot.task = undefined;
    if (reply.ok) {
      for (const ms of reply.runMs) this.options.onRun?.(ms / 1000);
      task.resolve(reply.faces);
    } else {
      task.reject(new InferenceFailedError(reply.message, false));
    }
    this.dispatch();
  }

  private onCrash(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    slot.task?.reject(new InferenceFailedError(err.message, true));
    if (this.closed) return;
    void slot.worker.terminate();
    this.spawn().catch((spawnErr: unknown) => {
      for (const task of this.queue.splice(0))
        task.reject(spawnErr instanceof Error ? spawnErr : new Error(String(spawnErr)));
    });
  }
}
