import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { image } from './fixtures.js';
import type { TestService } from './service.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  /** The body as received, for the leak scan. */
  text: string;
}

/**
 * Calls the service and keeps every answer's raw body, so a suite can check at its end that no answer,
 * however hostile the request, carried a stack trace or a path.
 */
export class AnswerLog {
  readonly texts: string[] = [];

  async post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    return this.record(
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    );
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.record(await fetch(url, { headers }));
  }

  private async record(res: Response): Promise<Answer> {
    const text = await res.text();
    this.texts.push(text);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      expect.fail(`answer ${res.status} is not JSON: ${text.slice(0, 200)}`);
    }
    return { status: res.status, headers: res.headers, body, text };
  }
}

/** Internal paths, stack frames and raw Node error names that must never reach a client. */
const LEAKS: [string, RegExp][] = [
  ['a path of this checkout', /\/work\/|\/home\/|\/tmp\/|file:\/\//],
  ['node_modules', /node_modules/],
  ['a stack frame', /\n\s+at |\bat [\w$.<>]+ \(.*:\d+:\d+\)|\bat (?:file|node):/],
  ['a raw error name', /\b\w*Error: /],
  [
    'a Node error code',
    /\bE(?:CONN\w+|NOENT|ACCES|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|ADDRINUSE|PERM|PROTO)\b|\bERR_[A-Z_]+|\bHPE_/,
  ],
];

/** What in `text` (raw, and with its JSON strings unescaped) looks like a leak; empty when nothing does. */
export function leaksIn(text: string): string[] {
  const strings: string[] = [];
  try {
    JSON.parse(text, (_key, value: unknown) => {
      if (typeof value === 'string') strings.push(value);
      return value;
    });
  } catch {
    // Not JSON: the raw text alone is scanned.
  }
  const scanned = [text, ...strings].join('\n');
  return LEAKS.filter(([, pattern]) => pattern.test(scanned)).map(([what]) => what);
}

export function expectNoLeaks(log: AnswerLog): void {
  expect(log.texts, 'no answers were recorded').to.not.be.empty;
  for (const text of log.texts) expect(leaksIn(text), text.slice(0, 500)).to.deep.equal([]);
}

/** The service still answers a normal request correctly: obama.jpg has one face. */
export async function expectStillDetects(
  svc: TestService,
  log: AnswerLog,
  headers: Record<string, string> = {},
): Promise<void> {
  const obama = await readFile(image('obama.jpg'));
  const { status, body } = await log.post(`${svc.url}/detect`, { img: obama.toString('base64') }, headers);
  expect(status, JSON.stringify(body)).to.equal(200);
  expect(body.error_code).to.equal(0);
  expect(body.faces_obj['0'].region).to.have.length(1);
}

/** The error answer contract, with its status and a message matching `message`. */
export function expectError(answer: Answer, status: number, message: RegExp | string): void {
  expect(answer.status, answer.text).to.equal(status);
  expect(answer.body).to.have.keys('error_code', 'error_msg', 'faces_obj');
  expect(answer.body.error_code).to.equal(1);
  expect(answer.body.faces_obj).to.deep.equal({});
  if (typeof message === 'string') expect(answer.body.error_msg).to.equal(message);
  else expect(answer.body.error_msg).to.match(message);
}

export interface PrivateTmpdir {
  dir: string;
  /** The worker's scratch folders (facedetect-XXXXXX) still there, ignoring the service's DATA_DIR. */
  scratchLeft(svc: TestService): Promise<string[]>;
  restore(): Promise<void>;
}

/**
 * Points os.tmpdir() (TMPDIR) at a fresh folder until `restore`, so that a suite sees exactly the scratch
 * folders its own jobs left, whatever else runs on the machine. Call it before startService, whose
 * DATA_DIR then lands there too.
 */
export async function privateTmpdir(): Promise<PrivateTmpdir> {
  const saved = process.env.TMPDIR;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hostile-tmp-'));
  process.env.TMPDIR = dir;
  return {
    dir,
    async scratchLeft(svc) {
      expect(svc.config.storage.dataDir.startsWith(dir), 'os.tmpdir() did not follow TMPDIR').to.equal(true);
      const dataDir = path.basename(svc.config.storage.dataDir);
      // Other libraries leave files of their own there.
      return (await readdir(dir)).filter((name) => name.startsWith('facedetect-') && name !== dataDir);
    },
    async restore() {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
