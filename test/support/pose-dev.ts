import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { FaceBox } from '../../worker/detection/face-types.js';
import { estimatePose, type HeadPose } from '../../worker/detection/head-pose.js';

/** The pose development portraits, committed with their sources (test/fixtures/pose-dev/SOURCES.md). */
const POSE_DEV = path.resolve('test/fixtures/pose-dev');

/** The degrees a picture is turned clockwise for the turn check. */
const TURN = 20;

/** The portraits' files, development and held-out apart. */
export async function poseDevFiles(): Promise<{ dev: string[]; holdout: string[] }> {
  const names = (await readdir(path.join(POSE_DEV, 'images'))).filter((n) => n.endsWith('.jpg')).sort();
  const split = JSON.parse(await readFile(path.join(POSE_DEV, 'split.json'), 'utf8')) as {
    holdout: string[];
  };
  const held = new Set(split.holdout);
  const file = (n: string) => path.join(POSE_DEV, 'images', n);
  return {
    dev: names.filter((n) => !held.has(n)).map(file),
    holdout: names.filter((n) => held.has(n)).map(file),
  };
}

/** One face of a portrait: its pose, and its pose in the mirrored and the turned picture (undefined if lost). */
export interface PoseTriple {
  pose: HeadPose;
  mirrored?: HeadPose;
  turned?: HeadPose;
}

export type Detect = (bytes: Buffer) => Promise<FaceBox[]>;

const poseOf = (f: FaceBox) =>
  estimatePose(
    [0, 1, 2, 3, 4].map((i) => [f.landmarks[2 * i]!, f.landmarks[2 * i + 1]!] as [number, number]),
  );

/**
 * Each face of at least `minSize` pixels in a portrait, found again in the portrait mirrored (sharp's flop)
 * and turned by {@link TURN}° clockwise on a grey ground (sharp's rotate, which enlarges the canvas about
 * the centre): the nearest face there to where the face's centre went, within half its size.
 */
export async function poseTriples(file: string, detect: Detect, minSize: number): Promise<PoseTriple[]> {
  const bytes = await readFile(file);
  const { width, height } = await sharp(bytes).metadata();
  const mirrored = await detect(await sharp(bytes).flop().jpeg({ quality: 95 }).toBuffer());
  const turnedBytes = await sharp(bytes)
    .rotate(TURN, { background: '#808080' })
    .jpeg({ quality: 95 })
    .toBuffer();
  const turnedSize = await sharp(turnedBytes).metadata();
  const turned = await detect(turnedBytes);
  const [c, s] = [Math.cos((TURN * Math.PI) / 180), Math.sin((TURN * Math.PI) / 180)];
  const turn = (x: number, y: number): [number, number] => {
    const [dx, dy] = [x - width / 2, y - height / 2];
    return [turnedSize.width / 2 + c * dx - s * dy, turnedSize.height / 2 + s * dx + c * dy];
  };
  const faces = (await detect(bytes)).filter((f) => Math.sqrt(f.w * f.h) >= minSize);
  return faces.map((f) => {
    const [cx, cy] = [f.x + f.w / 2, f.y + f.h / 2];
    const size = Math.sqrt(f.w * f.h);
    const m = nearest(mirrored, width - cx, cy, size / 2);
    const t = nearest(turned, ...turn(cx, cy), size / 2);
    return { pose: poseOf(f), mirrored: m && poseOf(m), turned: t && poseOf(t) };
  });
}

function nearest(faces: readonly FaceBox[], x: number, y: number, within: number): FaceBox | undefined {
  let best: FaceBox | undefined;
  let bestDistance = within;
  for (const f of faces) {
    const d = Math.hypot(f.x + f.w / 2 - x, f.y + f.h / 2 - y);
    if (d < bestDistance) [best, bestDistance] = [f, d];
  }
  return best;
}

/** Yaw and roll flip under a mirror, within 6° or a quarter of the yaw, whichever is more. */
export function mirrorHolds({ pose, mirrored }: PoseTriple): boolean {
  if (!mirrored) return false;
  const within = Math.max(6, 0.25 * Math.abs(pose.yaw));
  return Math.abs(mirrored.yaw + pose.yaw) <= within && Math.abs(mirrored.roll + pose.roll) <= within;
}

/** A {@link TURN}° clockwise turn of the picture adds that much to roll, within 5°. */
export function turnHolds({ pose, turned }: PoseTriple): boolean {
  if (!turned) return false;
  const added = ((((turned.roll - pose.roll) % 360) + 540) % 360) - 180;
  return Math.abs(added - TURN) <= 5;
}
