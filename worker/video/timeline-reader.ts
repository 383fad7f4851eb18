import { UnsupportedMediaError } from '../../shared/errors/errors.js';
import { inputArgs, inputUrl, toInput, type InputPolicy, type VideoSource } from './ffmpeg-args.js';
import { readAviIndex, readAviLayout } from './avi-index.js';
import { openByteSource } from './byte-source.js';
import { TimelineBuilder, type FrameTimeline } from './frame-timeline.js';
import { readMp4Boxes, withMp4IndexCopy } from './mp4-index.js';
import { PACKET_ENTRIES, PacketListReader } from './packet-list.js';
import type { ToolProcess } from './tool-process.js';
import type { VideoProbe } from './video-probe.js';
import { saysIndexPastEnd, unsupported, VIDEO_MESSAGES } from './video-messages.js';

/**
 * A range read of a video whose timing cannot be known from the index it has read: the whole file is
 * needed, so the caller downloads it (within MAX_VIDEO_BYTES) and reads it as a file.
 */
export class WholeFileNeeded extends Error {
  constructor(readonly container: string) {
    super(`the timing of this ${container} video needs the whole file`);
  }
}

/** What reading a timeline takes from the repository: its ffprobe children and its bounds. */
export interface TimelineTools {
  /** Starts ffprobe with these arguments, killed when it hangs or the caller aborts. */
  ffprobe(args: string[]): ToolProcess;
  policy: InputPolicy;
  maxFrames: number;
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

/** See FfmpegRepository.readTimeline. */
export async function readFrameTimeline(
  input: VideoSource,
  probe: VideoProbe,
  tools: TimelineTools,
): Promise<FrameTimeline | undefined> {
  if (!probe.hasVideo) throw new UnsupportedMediaError(VIDEO_MESSAGES.noVideo);
  const ranged = toInput(input).kind === 'proxy';
  const formats = probe.container.split(',');
  const indexed = formats.includes('avi') || formats.includes('mov');
  if (!indexed && !ranged) return listPackets(input, probe, tools);
  const source = await openByteSource(input, { signal: tools.signal, idleTimeoutMs: tools.idleTimeoutMs });
  try {
    if (formats.includes('avi')) {
      const layout = await readAviLayout(source, probe.streamIndex);
      if (layout) {
        const builder = new TimelineBuilder(tools.maxFrames);
        await readAviIndex(source, layout, probe.streamIndex, builder, tools.maxFrames);
        return builder.finish(probe.reorderDelay, probe.fps);
      }
      if (!ranged) return await listPackets(input, probe, tools);
    } else if (formats.includes('mov')) {
      const boxes = await readMp4Boxes(source);
      if (!ranged) return await listPackets(input, probe, tools);
      if (boxes) return await withMp4IndexCopy(source, boxes, (copy) => listPackets(copy, probe, tools));
    }
  } finally {
    await source.close();
  }
  throw new WholeFileNeeded(probe.container);
}

/** ffprobe's list of the video packets, parsed as it streams and stopped at the frame limit. */
async function listPackets(
  input: VideoSource,
  probe: VideoProbe,
  tools: TimelineTools,
): Promise<FrameTimeline | undefined> {
  const child = tools.ffprobe([
    ...inputArgs(input, tools.policy),
    '-select_streams',
    String(probe.streamIndex),
    '-show_entries',
    PACKET_ENTRIES,
    '-of',
    'compact=p=0',
    inputUrl(input),
  ]);
  const reader = new PacketListReader(tools.maxFrames);
  try {
    for await (const chunk of child.chunks()) {
      try {
        reader.push(chunk.toString('latin1'));
      } catch (err) {
        child.abandon();
        throw err;
      }
    }
    await child.settle(VIDEO_MESSAGES.unreadable);
    // The mov demuxer warns when its index points past the end of the file: the file was cut.
    if (saysIndexPastEnd(child.warnings)) {
      throw unsupported(VIDEO_MESSAGES.truncated, new Error(`ffprobe: ${child.warnings}`));
    }
  } finally {
    await child.close();
  }
  return reader.finish(probe.reorderDelay, probe.fps);
}
