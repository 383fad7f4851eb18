import type { FileServer } from './file-server.js';
import { binaries, config, log, quick } from './setup.js';
import { median } from './stats.js';
import {
  naiveSampling,
  shortAndLong,
  timeVideoRequest,
  videoOverhead,
  videoResult,
  type NaiveResult,
  type VideoOverhead,
  type VideoRequestResult,
} from './video-bench.js';
import type { BenchVideos } from './video-fixtures.js';

export interface VideoFigures {
  shortFive: VideoRequestResult;
  longFive: VideoRequestResult;
  /** Bytes the origin sent for one num_frames=5 request on the 10-minute video (median). */
  longReadBytes: number;
  sdShortFive: VideoRequestResult;
  hourFive: VideoRequestResult;
  hourReadBytes: number;
  overhead: { short: VideoOverhead; long: VideoOverhead };
}

const medianOverhead = (list: VideoOverhead[]): VideoOverhead => ({
  downloadS: median(list.map((o) => o.downloadS)),
  timelineS: median(list.map((o) => o.timelineS)),
});

/** num_frames=5 on the 1080p videos of 10 s and 10 min in turns, with the cost of download and timeline. */
async function tenSecondsAndTenMinutes(serviceUrl: string, files: FileServer) {
  const shortUrl = files.url('ten-seconds.mp4');
  const longUrl = files.url('ten-minutes.mp4');
  await timeVideoRequest(serviceUrl, shortUrl, 5);
  const runs = { short: [] as number[], long: [] as number[], longRead: [] as number[] };
  const overheads: { short: VideoOverhead[]; long: VideoOverhead[] } = { short: [], long: [] };
  const maxBytes = config.limits.maxVideoBytes;
  for (let i = 0; i < 3; i++) {
    runs.short.push(await timeVideoRequest(serviceUrl, shortUrl, 5));
    const before = files.bytesSent('ten-minutes.mp4');
    runs.long.push(await timeVideoRequest(serviceUrl, longUrl, 5));
    runs.longRead.push(files.bytesSent('ten-minutes.mp4') - before);
    overheads.short.push(await videoOverhead(binaries, shortUrl, maxBytes));
    overheads.long.push(await videoOverhead(binaries, longUrl, maxBytes));
  }
  return { runs, overheads };
}

/** num_frames=5 requests on short and long videos, the long ones of 640×360 read by range. */
export async function measureVideoRounds(serviceUrl: string, files: FileServer): Promise<VideoFigures> {
  log('video: num_frames=5 on 10 s and 10 min, in turns');
  const { runs, overheads } = await tenSecondsAndTenMinutes(serviceUrl, files);
  log('video: num_frames=5 on an hour of 640×360 read by range, and on its 10-s segment, in turns');
  const sd = await shortAndLong(
    serviceUrl,
    files.url('ten-seconds-360p.mp4'),
    files.url('an-hour-360p.mp4'),
    () => files.bytesSent('an-hour-360p.mp4'),
  );
  return {
    shortFive: videoResult(5, runs.short),
    longFive: videoResult(5, runs.long),
    longReadBytes: median(runs.longRead),
    sdShortFive: videoResult(5, sd.shortRuns),
    hourFive: videoResult(5, sd.longRuns),
    hourReadBytes: median(sd.longBytes),
    overhead: { short: medianOverhead(overheads.short), long: medianOverhead(overheads.long) },
  };
}

/** num_frames=100 on 10 min, and the naive full decode it is compared with; neither in quick runs. */
export async function measureLongVideo(
  serviceUrl: string,
  files: FileServer,
  videos: BenchVideos,
): Promise<{ longHundred?: VideoRequestResult; naive?: NaiveResult }> {
  if (quick) return {};
  log('video: num_frames=100 on 10 min');
  const longHundred = videoResult(100, [
    await timeVideoRequest(serviceUrl, files.url('ten-minutes.mp4'), 100),
  ]);
  log('video: naive full decode of 10 min');
  const naive = await naiveSampling(binaries, videos.tenMinutes, 100);
  return { longHundred, naive };
}
