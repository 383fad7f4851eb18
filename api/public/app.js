// The try-it page: sends one detect request (or one batch for several files) and draws the answer over the
// picture. Plain JS, no build step.

import { batchProblem, detectBatch, renderBatch } from './batch-view.js';
import { call, isVideoUrl, poll, ServiceError } from './detect-client.js';
import { legendItems } from './face-drawing.js';
import { renderImage, renderVideo } from './frame-rendering.js';

const KEY_STORAGE = 'facedetect.apiKey';

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('form'),
  key: $('api-key'),
  file: $('file'),
  url: $('url'),
  drop: $('drop-zone'),
  numFrames: $('num-frames'),
  minConfidence: $('min-confidence'),
  singleFace: $('single-face'),
  returnFaceUrl: $('return-face-url'),
  autoRotate: $('auto-rotate'),
  progress: $('progress'),
  status: $('status-text'),
  error: $('error'),
  result: $('result'),
  legend: $('legend'),
  frames: $('frames'),
  raw: $('raw'),
  rawJson: $('raw-json'),
};

/**
 * The media of the last request, `{ file }` or `{ url }`, with the `href` the page shows it from, or for a
 * batch `{ files }`, each `{ file, href }`.
 */
let source;
/** Aborts the request in flight when a new one starts. */
let inFlight;

ui.key.value = localStorage.getItem(KEY_STORAGE) ?? '';
ui.key.addEventListener('input', () => {
  const key = ui.key.value.trim();
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
});

ui.file.addEventListener('change', () => {
  // A copy: clearing the input's value below empties its FileList.
  useFiles(Array.from(ui.file.files));
});
ui.drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.drop.classList.add('over');
});
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  const files = Array.from(e.dataTransfer.files);
  if (files.length > 0) {
    useFiles(files);
    return;
  }
  const url = (e.dataTransfer.getData('text/uri-list') || e.dataTransfer.getData('text/plain')).trim();
  if (url) {
    ui.url.value = url.split('\n')[0];
    ui.form.requestSubmit();
  }
});
ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  const url = ui.url.value.trim();
  if (url) useSource({ url, href: url });
  if (!source) {
    fail('Choose an image file, drop one here, or paste the URL of an image or a video first.');
    return;
  }
  void run(source);
});

ui.legend.replaceChildren(...legendItems());

/** One file keeps the single /detect call; two or more go as one batch. */
function useFiles(files) {
  if (files.length === 1) void useFile(files[0]);
  else if (files.length > 1) void useBatch(files);
}

async function useFile(file) {
  if (!file.type.startsWith('image/')) {
    fail(
      `${file.name} is not an image. Videos are accepted by URL only: put the file where the service can download it and paste its address.`,
    );
    return;
  }
  ui.url.value = '';
  // Choosing the same file again must run again, and "change" fires only when the value changes.
  ui.file.value = '';
  useSource({ file, href: URL.createObjectURL(file) });
  await run(source);
}

/** Every file is sent, a non-image too: the service answers for each item, and the page shows it. */
async function useBatch(files) {
  ui.file.value = '';
  const problem = batchProblem(files);
  if (problem) {
    fail(problem);
    return;
  }
  ui.url.value = '';
  useSource({ files: files.map((file) => ({ file, href: URL.createObjectURL(file) })) });
  await run(source);
}

/** The object URL of a file shown before holds the file in memory until it is revoked. */
function useSource(next) {
  if (source?.file) URL.revokeObjectURL(source.href);
  for (const { href } of source?.files ?? []) URL.revokeObjectURL(href);
  source = next;
}

async function run(src) {
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  const { signal } = controller;
  setState('running');
  showError('');
  ui.result.hidden = true;
  ui.frames.replaceChildren();
  showProgress();
  setStatus('Detecting…');
  try {
    await (src.files ? runBatch(src, signal) : runSingle(src, signal));
    setState('done');
  } catch (err) {
    if (signal.aborted) return;
    fail(explain(err));
  } finally {
    if (!signal.aborted) ui.progress.hidden = true;
  }
}

async function runSingle(src, signal) {
  const { status, body } = await send('detect', { method: 'POST', ...request(src), signal });
  if (body.error_code !== 0) throw new ServiceError(body.error_msg, status);
  const answer = body.error_msg === 'PENDING' ? await follow(body, signal) : body;
  await render(answer, src, signal);
}

/** Files only, so images only: num_frames says nothing to them and is left out. */
async function runBatch(src, signal) {
  const { num_frames: _frames, ...options } = detectOptions();
  const total = src.files.length;
  setStatus(`Detecting in ${total} files…`);
  const answer = await detectBatch(
    src.files.map((s) => s.file),
    options,
    {
      send,
      signal,
      onStatus: ({ progress }) => {
        showProgress(progress.done, progress.total);
        setStatus(`Detecting… ${progress.done}/${progress.total} files`);
      },
    },
  );
  ui.frames.className = 'batch';
  ui.result.hidden = false;
  const { faces, failed } = await renderBatch(ui.frames, answer, src.files);
  setStatus(`${total} files: ${plural(faces, 'face')} found${failed ? `, ${failed} failed` : ''}.`);
}

/** The options as the form sets them; an empty number field leaves the service's default. */
function detectOptions() {
  const options = {
    single_face: ui.singleFace.checked,
    return_face_url: ui.returnFaceUrl.checked,
    auto_rotate: ui.autoRotate.checked,
  };
  if (ui.numFrames.value !== '') options.num_frames = Number(ui.numFrames.value);
  if (ui.minConfidence.value !== '') options.min_confidence = Number(ui.minConfidence.value);
  return options;
}

/** A file goes as it is, in a multipart form with the options as fields: no base64, a third less to send. */
function request(src) {
  const options = detectOptions();
  if (src.file) {
    const form = new FormData();
    form.append('file', src.file);
    for (const [name, value] of Object.entries(options)) form.append(name, String(value));
    return { body: form };
  }
  // A video takes longer than a request should stay open; the page follows its job instead.
  if (isVideoUrl(src.url)) options.async = true;
  return {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: src.url, ...options }),
  };
}

/** A request to the service with the page's key; its JSON answer also goes to "Raw JSON". */
async function send(url, init) {
  const answer = await call(url, init, ui.key.value.trim());
  ui.rawJson.textContent = JSON.stringify(answer.body, null, 2);
  ui.raw.hidden = false;
  return answer;
}

/** Follows an asynchronous job, showing its state and progress. */
function follow(pending, signal) {
  setStatus('Queued…');
  return poll(pending, {
    signal,
    send,
    onStatus: (body) => {
      showProgress(body.progress?.frames_done, body.progress?.frames_total);
      setStatus(
        body.status === 'waiting'
          ? 'Waiting for a worker…'
          : `Detecting…${body.progress ? ` ${body.progress.frames_done} / ${body.progress.frames_total} frames` : ''}`,
      );
    },
  });
}

async function render(answer, src, signal) {
  const frames = Object.entries(answer.faces_obj)
    .map(([index, faces]) => ({ index: Number(index), faces }))
    .sort((a, b) => a.index - b.index);
  const video = frames.some((f) => f.faces.frame_time !== null);
  ui.frames.className = video ? 'video' : 'image';
  ui.result.hidden = false;
  if (video) await renderVideo(ui.frames, frames, src.href, signal);
  else await renderImage(ui.frames, frames[0], src.href);
  const ids = new Set(frames.flatMap((f) => f.faces.face_ids));
  setStatus(
    video
      ? `${frames.length} frames, ${plural(ids.size, 'face id')}.`
      : `${plural(frames[0]?.faces.region.length ?? 0, 'face')} found.`,
  );
}

function explain(err) {
  if (err instanceof ServiceError && err.status === 401) {
    return `${err.message}. Enter a key the service accepts in the API key field.`;
  }
  return err instanceof Error ? err.message : String(err);
}

function fail(message) {
  showError(message);
  setState('error');
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = message === '';
}

/** A bar of `done` out of `total`; without a total, one that says only that something runs. */
function showProgress(done, total) {
  ui.progress.hidden = false;
  if (total > 0) {
    ui.progress.max = total;
    ui.progress.value = done;
  } else {
    ui.progress.removeAttribute('value');
  }
}

function setStatus(text) {
  ui.status.textContent = text;
}

function setState(state) {
  document.body.dataset.state = state;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
