import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { resolveBinary, resolveFfmpegBinaries } from '../../worker/video/ffmpeg-binaries.js';

describe('resolveBinary', () => {
  const fallback = () => '/bundled/ffmpeg';
  const only =
    (...files: string[]) =>
    (file: string) =>
      files.includes(file);
  const searchPath = ['/usr/local/bin', '/usr/bin'].join(path.delimiter);

  it('when an explicit path is given, then it wins without a search', () => {
    const found = resolveBinary('ffmpeg', '/opt/ff/ffmpeg', searchPath, fallback, only('/usr/bin/ffmpeg'));
    expect(found).to.equal('/opt/ff/ffmpeg');
  });

  it('when PATH holds the binary, then the first directory that has it is used', () => {
    const found = resolveBinary('ffmpeg', undefined, searchPath, fallback, only('/usr/bin/ffmpeg'));
    expect(found).to.equal('/usr/bin/ffmpeg');
  });

  it('when PATH does not hold it, then the fallback is used', () => {
    expect(resolveBinary('ffmpeg', undefined, searchPath, fallback, only())).to.equal('/bundled/ffmpeg');
  });

  it('when PATH is missing or has empty and relative entries, then those are not searched', () => {
    const relative = ['', '.', 'bin'].join(path.delimiter);
    const everything = () => true;
    expect(resolveBinary('ffmpeg', undefined, relative, fallback, everything)).to.equal('/bundled/ffmpeg');
    expect(resolveBinary('ffmpeg', undefined, undefined, fallback, everything)).to.equal('/bundled/ffmpeg');
  });

  it('when an explicit path is given, then the fallback is never loaded', () => {
    const throwing = () => {
      throw new Error('installer package missing');
    };
    expect(resolveBinary('ffprobe', '/x/ffprobe', undefined, throwing)).to.equal('/x/ffprobe');
  });
});

describe('resolveFfmpegBinaries', () => {
  it('when nothing is configured, then the bundled binaries are found and exist', () => {
    const { ffmpeg, ffprobe } = resolveFfmpegBinaries();
    expect(existsSync(ffmpeg), ffmpeg).to.equal(true);
    expect(existsSync(ffprobe), ffprobe).to.equal(true);
  });

  it('when explicit paths are given, then both are used as given', () => {
    const binaries = resolveFfmpegBinaries({ ffmpegPath: '/a/ffmpeg', ffprobePath: '/b/ffprobe' });
    expect(binaries).to.deep.equal({ ffmpeg: '/a/ffmpeg', ffprobe: '/b/ffprobe' });
  });
});
