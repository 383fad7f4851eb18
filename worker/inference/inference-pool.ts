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
  type PackedCanvas,
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
  /** Requests of one group may be merged (see `take`); none when undefined. */
  group?: object;
  resolve: (faces: FaceBox[][]) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  /** The request in flight: one task, or several merged (see `take`). */
  running?: { id: number; tasks: Task[] };
}

/**
 * A fixed set of inference threads and a FIFO of requests: the {@link Detector} the worker runs. Each
 * request (several scales or views of one picture) runs on one thread; different requests run in parallel
 * on different threads. A thread that dies fails only the requests it held and is replaced.
 *
 * For a model of fixed input, whose thread packs a request's inputs into canvases of that size, a canvas
 * costs the same however little it holds, so requests queued together are merged up to about one canvas
 * of inputs: the landmark views and turn checks of a picture's faces, asked for one face at a time, would
 * otherwise each cost a whole canvas. Requests are then sent at the next turn of the event loop, once
 * everything asked for together has been queued.
 */
export class InferencePool implements Detector {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  /** The canvas the threads pack inputs into; undefined for models that run each input alone. */
  private packs?: PackedCanvas;
  private dispatchScheduled = false;

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

  detect(inputs: DetectorInput[], scoreThreshold: number, group?: object): Promise<FaceBox[][]> {
    if (this.closed) return Promise.reject(new Error('inference pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { inputs, scoreThreshold }, group, resolve, reject });
      if (!this.packs) return this.dispatch();
      if (this.dispatchScheduled) return;
      this.dispatchScheduled = true;
      setImmediate(() => {
        this.dispatchScheduled = false;
        this.dispatch();
      });
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
        this.packs = msg.packs;
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
      if (slot.running) continue;
      const tasks = this.take();
      if (tasks.length === 0) return;
      slot.running = { id: this.nextId++, tasks };
      const inputs = tasks.length === 1 ? tasks[0]!.req.inputs : tasks.flatMap((t) => t.req.inputs);
      slot.worker.postMessage({
        id: slot.running.id,
        inputs,
        scoreThreshold: tasks[0]!.req.scoreThreshold,
      } satisfies InferenceRequest);
    }
  }

  /**
   * The next request: the oldest task and, for a packing model, the queued tasks of its group and
   * threshold, in the order asked, while their inputs, with the packing gap, fill no more than one
   * canvas; a task larger than that by itself goes alone.
   */
  private take(): Task[] {
    const first = this.queue.shift();
    if (!first) return [];
    if (!this.packs || first.group === undefined) return [first];
    const { width, height, gap } = this.packs;
    const tasks = [first];
    let room = width * height - packedArea(first.req.inputs, gap);
    for (let i = 0; i < this.queue.length && room > 0;) {
      const task = this.queue[i]!;
      const area = packedArea(task.req.inputs, gap);
      const fits =
        task.group === first.group && task.req.scoreThreshold === first.req.scoreThreshold && area <= room;
      if (!fits) {
        i++;
        continue;
      }
      room -= area;
      tasks.push(...this.queue.splice(i, 1));
    }
    return tasks;
  }

  private onReply(slot: Slot, reply: InferenceReply): void {
    const running = slot.running;
    if (!running || running.id !== reply.id) return;
    slot.running = undefined;
    if (reply.ok) {
      for (const ms of reply.runMs) this.options.onRun?.(ms / 1000);
      let next = 0;
      for (const task of running.tasks) {
        task.resolve(reply.faces.slice(next, next + task.req.inputs.length));
        next += task.req.inputs.length;
      }
    } else if (running.tasks.length > 1) {
      // One input may have failed the run: each task runs again alone, so only its own request fails.
      this.queue.unshift(...running.tasks.map(({ group: _merged, ...alone }) => alone));
    } else {
      running.tasks[0]!.reject(new InferenceFailedError(reply.message, false));
    }
    this.dispatch();
  }

  private onCrash(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    for (const task of slot.running?.tasks ?? []) task.reject(new InferenceFailedError(err.message, true));
    if (this.closed) return;
    void slot.worker.terminate();
    this.spawn().catch((spawnErr: unknown) => {
      for (const task of this.queue.splice(0))
        task.reject(spawnErr instanceof Error ? spawnErr : new Error(String(spawnErr)));
    });
  }
}

/** Room the inputs take in canvases, each with a margin of the packing gap on two sides. */
function packedArea(inputs: readonly DetectorInput[], gap: number): number {
  return inputs.reduce((sum, { image }) => sum + (image.width + gap) * (image.height + gap), 0);
}
