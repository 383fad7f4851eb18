import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

interface ProfileRow {
  fn: string;
  where: string;
  selfMs: number;
  /** Share of the busy time: idle excluded, so threads that mostly wait still read sensibly. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  idleMs: number;
  top: ProfileRow[];
}

/** Self time per function (name and source line), the way DevTools' bottom-up view adds it up. */
function summarizeProfile(profile: CpuProfile, file: string, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, ProfileRow>();
  let idleMs = 0;
  let busyMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const frame = byId.get(id);
    if (!frame) return;
    if (frame.functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    busyMs += ms;
    const where = frame.url ? `${shorten(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}@${where}`;
    const row = self.get(key) ?? { fn: frame.functionName || '(anonymous)', where, selfMs: 0, percent: 0 };
    row.selfMs += ms;
    self.set(key, row);
  });
  const rows = [...self.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  for (const row of rows) row.percent = (100 * row.selfMs) / busyMs;
  return { file, busyMs, idleMs, top: rows };
}

/** Every .cpuprofile in `dir` (one per process and per worker thread), busiest first. */
export async function summarizeDir(dir: string, top = 15): Promise<ProfileSummary[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const summaries = await Promise.all(
    files.map(async (f) =>
      summarizeProfile(JSON.parse(await readFile(path.join(dir, f), 'utf8')) as CpuProfile, f, top),
    ),
  );
  return summaries.sort((a, b) => b.busyMs - a.busyMs);
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [`${s.file}: busy ${(s.busyMs / 1000).toFixed(1)} s, idle ${(s.idleMs / 1000).toFixed(1)} s`];
  for (const r of s.top)
    lines.push(
      `  ${r.percent.toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.fn}  ${r.where}`,
    );
  return lines.join('\n');
}

function shorten(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url.replace(/^file:\/\//, '');
}
