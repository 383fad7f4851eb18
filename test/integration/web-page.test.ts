import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { image, VIDEOS } from '../support/fixtures.js';
import type { FixtureServer } from '../support/http-fixture-server.js';
import { serveFilesWithRanges } from '../support/range-file-server.js';
import { startService, type TestService } from '../support/service.js';
import { launchChromium, recordPosts, settled, type PageNode } from '../support/try-it-page.js';

const KEY = 'web-page-key';
const SCREENSHOT = path.join('test-artifacts', 'web-page.png');
const LANDMARK_NAMES = [
  'left eye',
  'right eye',
  'nose tip',
  'mouth centre',
  'left mouth corner',
  'right mouth corner',
];

describe('the try-it page, driven in headless Chromium', function () {
  let svc: TestService;
  let browser: Browser;
  let video: FixtureServer;
  let page: Page;
  /** Script errors and CSP violations: the page must run clean under its own policy. */
  let pageProblems: string[];

  before(async () => {
    [svc, browser, video] = await Promise.all([
      startService({ API_KEYS: KEY }),
      launchChromium(),
      // With byte ranges, which a <video> needs to seek.
      serveFilesWithRanges({
        '/clip.mp4': { file: path.join(VIDEOS, 'short_hamilton_clip.mp4'), type: 'video/mp4' },
      }),
    ]);
  });
  after(async () => {
    await browser?.close();
    await video?.close();
    await svc?.stop();
  });

  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    pageProblems = [];
    page.on('pageerror', (err) => pageProblems.push(err.message));
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/.test(msg.text())) pageProblems.push(msg.text());
    });
    await page.goto(svc.url);
  });
  afterEach(async () => page?.close());

  it('when a key is entered and two_people.jpg is chosen, then both faces are drawn over it with boxes, ids, scores and six named landmarks', async () => {
    await page.fill('#api-key', KEY);
    const { arrived, stop } = recordPosts(svc.api.server);
    await page.setInputFiles('#file', image('two_people.jpg'));
    expect(await settled(page)).to.deep.equal({ state: 'done', error: '' });
    stop();
    // The file goes as it is, in a form, not as base64 inside JSON (which would be a third larger).
    const { size } = await stat(image('two_people.jpg'));
    expect(arrived).to.have.length(1);
    expect(arrived[0]!.type).to.match(/^multipart\/form-data; boundary=/);
    expect(arrived[0]!.length).to.be.within(size, size + 2000);

    const boxes = await page.$$eval('#frames rect[data-face-id]', (rects: PageNode[]) =>
      rects.map((r) => ({
        id: r.getAttribute('data-face-id'),
        region: ['x', 'y', 'width', 'height'].map((a) => Number(r.getAttribute(a))),
        stroke: r.getAttribute('stroke'),
      })),
    );
    expect(boxes.map((b) => b.id)).to.deep.equal(['0', '1']);
    expect(boxes[0]!.stroke).to.not.equal(boxes[1]!.stroke);
    const raw = JSON.parse((await page.textContent('#raw-json')) ?? '{}');
    expect(boxes.map((b) => b.region)).to.deep.equal(raw.faces_obj['0'].region);
    expect(await page.textContent('#frames figcaption')).to.match(/#0 0\.\d\d · #1 0\.\d\d/);
    const rows = await page.$$eval('#frames table.attributes tr[data-face-id]', (trs: PageNode[]) =>
      trs.map((tr) => tr.textContent),
    );
    expect(rows).to.have.length(2);
    const pose = raw.faces_obj['0'].pose[0];
    expect(rows[0])
      .to.contain(`${pose.yaw.toFixed(0)}°`)
      .and.contain(raw.faces_obj['0'].quality[0].sharpness.toFixed(2));
    const hover = await page.$$eval('#frames rect[data-face-id] title', (titles: PageNode[]) =>
      titles.map((t) => t.textContent),
    );
    expect(hover[0]).to.match(/yaw -?\d+° pitch -?\d+° roll -?\d+° · sharpness 0\.\d\d brightness 0\.\d\d/);

    const landmarks = await page.$$eval('#frames circle[data-landmark]', (dots: PageNode[]) =>
      dots.map((d) => [d.getAttribute('data-landmark'), d.getAttribute('fill')]),
    );
    expect(landmarks).to.have.length(12);
    expect(landmarks.slice(0, 6).map(([name]) => name)).to.deep.equal(LANDMARK_NAMES);
    expect(new Set(landmarks.map(([, fill]) => fill)).size).to.equal(6);
    expect(await page.locator('#legend li').allTextContents()).to.include.members(LANDMARK_NAMES);

    // The overlay must sit exactly on the picture, or every box would be drawn beside its face.
    const picture = await page.locator('#frames .stage img').boundingBox();
    const overlay = await page.locator('#frames .stage svg').boundingBox();
    for (const side of ['x', 'y', 'width', 'height'] as const) {
      expect(overlay![side]).to.be.closeTo(picture![side], 1);
    }

    expect(await page.getAttribute('#raw', 'open')).to.equal(null);
    expect(raw.error_msg).to.equal('SUCCESS');
    expect(await page.evaluate('localStorage.getItem("facedetect.apiKey")')).to.equal(KEY);
    expect(pageProblems).to.deep.equal([]);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('when a sideways photo is chosen, then its faces are drawn and the caption names the turn that found them', async () => {
    await page.fill('#api-key', KEY);
    const sideways = await sharp(await readFile(image('two_people.jpg')))
      .rotate(90)
      .jpeg()
      .toBuffer();
    await page.setInputFiles('#file', { name: 'sideways.jpg', mimeType: 'image/jpeg', buffer: sideways });
    expect(await settled(page)).to.deep.equal({ state: 'done', error: '' });
    expect(await page.$$eval('#frames rect[data-face-id]', (rects: PageNode[]) => rects.length)).to.equal(2);
    expect(await page.textContent('#frames .rotation')).to.equal(
      'found after turning the picture 270° clockwise',
    );
  });

  it('when single_face is ticked and two_people.jpg is chosen, then the form field is honoured and one face is drawn', async () => {
    await page.fill('#api-key', KEY);
    await page.check('#single-face');
    await page.setInputFiles('#file', image('two_people.jpg'));
    expect(await settled(page)).to.deep.equal({ state: 'done', error: '' });
    expect(await page.locator('#frames rect[data-face-id]').count()).to.equal(1);
    expect(pageProblems).to.deep.equal([]);
  });

  it('when the key is wrong, then the error says so in plain words and where to fix it', async () => {
    await page.fill('#api-key', 'not-the-key');
    await page.setInputFiles('#file', image('obama_small.jpg'));
    const { state, error } = await settled(page);
    expect(state).to.equal('error');
    expect(error).to.match(/^Invalid API key.*Enter a key the service accepts in the API key field\.$/);
    expect(await page.locator('#result').isHidden()).to.equal(true);
    expect(pageProblems).to.deep.equal([]);
  });

  it('when a video URL is sent with num_frames=5, then five sampled frames are shown with their frame_time, face colours per id and removed ids', async () => {
    await page.fill('#api-key', KEY);
    await page.fill('#url', `${video.url}/clip.mp4`);
    await page.fill('#num-frames', '5');
    await page.click('#detect');
    expect(await settled(page)).to.deep.equal({ state: 'done', error: '' });
    const raw = JSON.parse((await page.textContent('#raw-json')) ?? '{}');
    // Videos run as async jobs: the raw JSON is the job status, holding the answer in `result`.
    const answer = raw.result ?? raw;
    const keys = Object.keys(answer.faces_obj as object);
    expect(keys).to.deep.equal(['0', '55', '110', '165', '220']);

    const shown = await page.$$eval('#frames figure.frame[data-drawn]', (figures: PageNode[]) =>
      figures.map((f) => ({
        index: f.getAttribute('data-frame-index'),
        time: f.querySelector('.frame-time')?.textContent,
        removed: f.querySelector('.removed')?.textContent,
        boxes: Array.from(f.querySelectorAll('rect[data-face-id]')).map((r) => ({
          id: r.getAttribute('data-face-id'),
          stroke: r.getAttribute('stroke'),
        })),
      })),
    );
    expect(shown.map((f) => f.index)).to.deep.equal(keys);
    shown.forEach((f, i) => {
      const frame = answer.faces_obj[keys[i]!];
      expect(f.time).to.equal(`frame ${keys[i]} · ${(frame.frame_time as number).toFixed(2)} s`);
      expect(f.boxes.map((b) => Number(b.id))).to.deep.equal(frame.face_ids);
      const removed = frame.removed as number[];
      expect(f.removed).to.equal(
        removed.length ? `removed: ${removed.map((id) => `#${id}`).join(', ')}` : 'removed: none',
      );
    });
    const strokesById = new Map<string | null, Set<string | null>>();
    for (const { id, stroke } of shown.flatMap((f) => f.boxes)) {
      strokesById.set(id, (strokesById.get(id) ?? new Set()).add(stroke));
    }
    for (const strokes of strokesById.values()) expect(strokes.size).to.equal(1);
    expect(pageProblems).to.deep.equal([]);
  });
});
