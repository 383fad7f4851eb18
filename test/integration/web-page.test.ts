import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { image, VIDEOS } from '../support/fixtures.js';
import type { FixtureServer } from '../support/http-fixture-server.js';
import { serveFilesWithRanges } from '../support/range-file-server.js';
import { startService, type TestService } from '../support/service.js';
import { batchItems, launchChromium, recordPosts, settled } from '../support/try-it-page.js';
import { watchSentForms, watchStatusLine } from '../support/try-it-page.js';
import type { PageNode } from '../support/try-it-page.js';

const KEY = 'web-page-key';
const SCREENSHOT = path.join('test-artifacts', 'web-page.png');
const BATCH_SCREENSHOT = '/tmp/page-batch.png';
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

  const NOT_AN_IMAGE = { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('no faces here\n') };
  const photo = async (name: string) => ({
    name,
    mimeType: 'image/jpeg',
    buffer: await readFile(image(name)),
  });

  it('when two photos and a text file are chosen at once, then one batch is sent and each file is shown in order with its faces or its error', async () => {
    await page.fill('#api-key', KEY);
    await page.fill('#min-confidence', '0.5');
    const { arrived, stop } = recordPosts(svc.api.server);
    await watchSentForms(page);
    await page.setInputFiles('#file', [
      await photo('obama.jpg'),
      await photo('two_people.jpg'),
      NOT_AN_IMAGE,
    ]);
    expect(await settled(page)).to.deep.equal({ state: 'done', error: '' });
    stop();
    expect(arrived).to.have.length(1);
    expect(arrived[0]).to.include({ url: '/detect/batch', key: `Bearer ${KEY}` });
    expect(arrived[0]!.type).to.match(/^multipart\/form-data; boundary=/);
    expect(await page.evaluate('window.sentParts')).to.deep.equal([
      ['file', 'obama.jpg'],
      ['file', 'two_people.jpg'],
      ['file', 'notes.txt'],
      ['single_face', 'false'],
      ['return_face_url', 'false'],
      ['auto_rotate', 'true'],
      ['min_confidence', '0.5'],
    ]);

    const raw = JSON.parse((await page.textContent('#raw-json')) ?? '{}');
    expect(raw.job_id).to.match(/^b-/);
    expect(raw.items[2].status).to.be.within(400, 499);
    expect(await batchItems(page)).to.deep.equal([
      { name: 'obama.jpg', count: '1 face', boxes: 1, error: null },
      { name: 'two_people.jpg', count: '2 faces', boxes: 2, error: null },
      {
        name: 'notes.txt',
        count: 'failed',
        boxes: 0,
        error: `${raw.items[2].status}: ${raw.items[2].error_msg}`,
      },
    ]);
    // The first item's boxes are drawn from its own answer, as the single view draws them.
    const regions = await page.$$eval(
      '#frames .batch-item[data-item-index="1"] rect[data-face-id]',
      (rects: PageNode[]) =>
        Array.from(rects).map((r) => ['x', 'y', 'width', 'height'].map((a) => Number(r.getAttribute(a)))),
    );
    expect(regions).to.deep.equal(raw.items[1].faces_obj['0'].region);
    expect(await page.textContent('#status-text')).to.equal('3 files: 3 faces found, 1 failed.');
    expect(pageProblems).to.deep.equal([]);
    await page.screenshot({ path: BATCH_SCREENSHOT, fullPage: true });
  });

  it('when a batch is answered 202, then the page polls its job, shows done/total, and draws every file', async () => {
    await page.fill('#api-key', KEY);
    // The same service, told by a query parameter to answer the batch as a job.
    await page.route('**/detect/batch', (route) =>
      route.continue({ url: `${route.request().url()}?async=true` }),
    );
    await watchStatusLine(page);
    await page.setInputFiles('#file', [image('two_people.jpg'), image('obama_small.jpg')]);
    expect(await settled(page)).to.deep.equal({ state: 'done', error: '' });
    const raw = JSON.parse((await page.textContent('#raw-json')) ?? '{}');
    expect(raw).to.include({ status: 'completed' });
    expect(raw.progress).to.deep.equal({ done: 2, total: 2 });
    expect((await batchItems(page)).map((item) => item.boxes)).to.deep.equal([2, 1]);
    expect(await page.evaluate<string[]>('window.statusTexts')).to.include('Detecting… 2/2 files');
    expect(pageProblems).to.deep.equal([]);
  });

  it('when more than 16 files are chosen, then the page says a batch takes at most 16 and sends nothing', async () => {
    await page.fill('#api-key', KEY);
    const { arrived, stop } = recordPosts(svc.api.server);
    const files = Array.from({ length: 17 }, (_, i) => ({
      ...NOT_AN_IMAGE,
      name: `f${i}.jpg`,
      mimeType: 'image/jpeg',
    }));
    await page.setInputFiles('#file', files);
    const { state, error } = await settled(page);
    stop();
    expect(state).to.equal('error');
    expect(error).to.match(
      /^17 files chosen, and a batch takes at most 16 \(MAX_BATCH_ITEMS\): nothing was sent\./,
    );
    expect(arrived).to.deep.equal([]);
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
