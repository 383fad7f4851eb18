import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import { TimelineBuilder, type FrameTimeline } from './frame-timeline.js';
import { num } from './video-probe.js';
import { VIDEO_MESSAGES } from './video-messages.js';

/** The fields asked of ffprobe's `-show_entries packet=…`, in the order it prints them. */
export const PACKET_ENTRIES = 'packet=pts_time,dts_time,size,flags';

/** A line of ffprobe's compact packet list is short; a longer one is not ffprobe's. */
const MAX_LINE_CHARS = 256;

/**
 * Reads ffprobe's packet list (`pts_time=0.852019|dts_time=0.800000|size=245|flags=K__`; K keyframe,
 * D discarded by an edit list) as it streams, chunk by chunk, so the event loop never holds a list that
 * grows with the file.
 */
export class PacketListReader {
  private readonly builder: TimelineBuilder;
  private tail = '';

  constructor(maxFrames: number) {
    this.builder = new TimelineBuilder(maxFrames);
  }

  /** Adds a chunk of output; throws PayloadTooLargeError once the packets pass the limit. */
  push(chunk: string): void {
    const lines = (this.tail + chunk).split('\n');
    this.tail = lines.pop() ?? '';
    if (this.tail.length > MAX_LINE_CHARS) throw new UnsupportedMediaError(VIDEO_MESSAGES.unreadable);
    for (const line of lines) if (line) this.add(line);
  }

  /** The timeline once the output has ended; see TimelineBuilder.finish. */
  finish(reorderDelay = 0, fps = 0): FrameTimeline | undefined {
    if (this.tail) this.add(this.tail);
    this.tail = '';
    return this.builder.finish(reorderDelay, fps);
  }

  private add(line: string): void {
    let pts: number | undefined;
    let dts: number | undefined;
    let size: number | undefined;
    let flags = '';
    for (const field of line.split('|')) {
      if (field.startsWith('pts_time=')) pts = num(field.slice(9));
      else if (field.startsWith('dts_time=')) dts = num(field.slice(9));
      else if (field.startsWith('size=')) size = num(field.slice(5));
      else if (field.startsWith('flags=')) flags = field.slice(6);
    }
    this.builder.add({ pts, dts, size, key: flags.includes('K'), discarded: flags.includes('D') });
  }
}
