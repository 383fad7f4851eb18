/** What ffprobe says of a video, reduced to what sampling needs. Pure parsing, no I/O. */

/** Clockwise degrees the coded picture is turned for display. */
export type Rotation = 0 | 90 | 180 | 270;

export interface VideoProbe {
  hasVideo: boolean;
  /** The container's index of the video stream that is sampled; -1 without one. */
  streamIndex: number;
  /** Displayed size: rotation and pixel aspect ratio applied. */
  width: number;
  height: number;
  /** Coded size, as the decoder allocates it. */
  codedPixels: number;
  rotation: Rotation;
  durationS: number;
  fps: number;
  /** Frame count as the header states it, or duration × fps; a claim, never trusted for allocation. */
  frameCount: number;
  /** The container does not state the frame count; it is duration × fps. */
  frameCountEstimated: boolean;
  /** Presentation time of the video stream's first frame, in seconds. */
  startTime: number;
  /** The container's start time: where a player's clock, and `ffmpeg -ss`, count from. */
  originTime: number;
  /** Frames the decoder holds back to reorder B-frames: how far a decoded frame's time trails its packet's. */
  reorderDelay: number;
  /** ffprobe's name for the container's demuxer, such as `mov,mp4,m4a,3gp,3g2,mj2` or `avi`. */
  container: string;
}

interface ProbeStream {
  index?: number;
  codec_type?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  has_b_frames?: number;
  duration?: string;
  start_time?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

export interface ProbeJson {
  streams?: ProbeStream[];
  format?: { duration?: string; start_time?: string; format_name?: string };
}

const NO_VIDEO: VideoProbe = {
  hasVideo: false,
  streamIndex: -1,
  width: 0,
  height: 0,
  codedPixels: 0,
  rotation: 0,
  durationS: 0,
  fps: 0,
  frameCount: 0,
  frameCountEstimated: true,
  startTime: 0,
  originTime: 0,
  container: '',
  reorderDelay: 0,
};

export function parseProbe(json: ProbeJson): VideoProbe {
  // Cover art in a music file is a one-picture "video" stream; it is not a video.
  const stream = json.streams?.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const container = json.format?.format_name ?? '';
  if (!stream || stream.index === undefined || !stream.width || !stream.height)
    return { ...NO_VIDEO, container };
  const rotation = parseRotation(stream);
  const sar = ratio(stream.sample_aspect_ratio) ?? 1;
  const codedWidth = Math.max(1, Math.round(stream.width * sar));
  const sideways = rotation === 90 || rotation === 270;
  const durationS = positive(num(stream.duration)) ?? positive(num(json.format?.duration)) ?? 0;
  const fps = ratio(stream.avg_frame_rate) ?? ratio(stream.r_frame_rate) ?? 0;
  const stated = num(stream.nb_frames);
  const frameCount = stated && stated > 0 ? stated : Math.round(durationS * fps);
  const startTime = num(stream.start_time) ?? num(json.format?.start_time) ?? 0;
  return {
    hasVideo: true,
    streamIndex: stream.index,
    width: sideways ? stream.height : codedWidth,
    height: sideways ? codedWidth : stream.height,
    codedPixels: stream.width * stream.height,
    rotation,
    durationS,
    fps,
    frameCount,
    frameCountEstimated: !(stated && stated > 0),
    startTime,
    originTime: num(json.format?.start_time) ?? startTime,
    container,
    reorderDelay: Math.max(0, Math.min(16, stream.has_b_frames ?? 0)),
  };
}

/**
 * ffprobe since 5.x reports the display matrix's counter-clockwise angle; older ones a clockwise
 * `rotate` tag. Both become clockwise quarter turns.
 */
function parseRotation(stream: ProbeStream): Rotation {
  const counterClockwise = stream.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const clockwise = counterClockwise !== undefined ? -counterClockwise : (num(stream.tags?.rotate) ?? 0);
  const quarter = (((Math.round(clockwise / 90) % 4) + 4) % 4) as 0 | 1 | 2 | 3;
  return ([0, 90, 180, 270] as const)[quarter];
}

export function num(value: string | number | undefined): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return n !== undefined && Number.isFinite(n) && value !== '' ? n : undefined;
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && n > 0 ? n : undefined;
}

function ratio(value: string | undefined): number | undefined {
  const [a, b] = (value ?? '').split(/[/:]/).map(Number);
  return a !== undefined && b !== undefined && a > 0 && b > 0 ? a / b : undefined;
}
