// The try-it page: sends one detect request and draws the answer over the picture. Plain JS, no build step.

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

/** The media of the last request, `{ file }` or `{ url }`, with the `href` the page shows it from. */
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
  if (ui.file.files[0]) void useFile(ui.file.files[0]);
});
ui.drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.drop.classList.add('over');
});
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  const file = e.dataTransfer.files[0];
  if (file) {
    void useFile(file);
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

/** The object URL of a file shown before holds the file in memory until it is revoked. */
function useSource(next) {
  if (source?.file) URL.revokeObjectURL(source.href);
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
  showProgress(null);
  setStatus('Detecting…');
  try {
    const { status, body } = await send('detect', { method: 'POST', ...request(src), signal });
    if (body.error_code !== 0) throw new ServiceError(body.error_msg, status);
    const answer = body.error_msg === 'PENDING' ? await follow(body, signal) : body;
    await render(answer, src, signal);
    setState('done');
  } catch (err) {
    if (signal.aborted) return;
    fail(explain(err));
  } finally {
    if (!signal.aborted) ui.progress.hidden = true;
  }
}

/** A file goes as it is, in a multipart form with the options as fields: no base64, a third less to send. */
function request(src) {
  const options = {
    single_face: ui.singleFace.checked,
    return_face_url: ui.returnFaceUrl.checked,
    auto_rotate: ui.autoRotate.checked,
  };
  if (ui.numFrames.value !== '') options.num_frames = Number(ui.numFrames.value);
  if (ui.minConfidence.value !== '') options.min_confidence = Number(ui.minConfidence.value);
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
      showProgress(body.progress);
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

function showProgress(progress) {
  ui.progress.hidden = false;
  if (progress && progress.frames_total > 0) {
    ui.progress.max = progress.frames_total;
    ui.progress.value = progress.frames_done;
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
