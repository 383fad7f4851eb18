// The answer's frames drawn for a person: the picture (or each sampled video frame, copied from a <video>
// seeked to its time), the faces over it, and what the answer says of them.

import { attributeTable, crops, element, line, overlay } from './face-drawing.js';

// Lands the seek inside the sampled frame even when frame_time is rounded down a little.
const SEEK_NUDGE_S = 0.001;

/**
 * Shows the image sent, with its faces drawn over it, in `container`; a `thumbnail` (a batch's card) gets
 * labels and dots sized for a small picture, as a video's frames do.
 */
export async function renderImage(container, frame, href, { thumbnail = false } = {}) {
  const img = new Image();
  img.alt = 'The image sent';
  img.src = href;
  try {
    await img.decode();
  } catch {
    throw new Error(
      'The service read this image but the browser cannot show it; the raw JSON has the result.',
    );
  }
  container.append(
    frameFigure(img, img.naturalWidth, img.naturalHeight, frame, {
      video: false,
      magnify: thumbnail ? 2 : 1,
    }),
  );
}

/** Seeks a <video> to each sampled frame's time and copies that frame onto a canvas. */
export async function renderVideo(container, frames, href, signal) {
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'auto';
  const cannotLoad = 'The browser cannot load this video to show its frames; the raw JSON has the result.';
  const loaded = once(video, 'loadeddata', cannotLoad);
  video.src = href;
  await loaded;
  try {
    for (const frame of frames) {
      if (signal.aborted) return;
      const seeked = once(video, 'seeked', cannotLoad);
      video.currentTime = frame.faces.frame_time + SEEK_NUDGE_S;
      await seeked;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
      container.append(frameFigure(canvas, canvas.width, canvas.height, frame, { video: true, magnify: 2 }));
    }
  } finally {
    video.removeAttribute('src');
    video.load();
  }
}

function once(target, event, errorMessage) {
  return new Promise((resolve, reject) => {
    const ok = () => {
      target.removeEventListener('error', fail);
      resolve();
    };
    const fail = () => {
      target.removeEventListener(event, ok);
      reject(new Error(errorMessage));
    };
    target.addEventListener(event, ok, { once: true });
    target.addEventListener('error', fail, { once: true });
  });
}

function frameFigure(picture, width, height, { index, faces }, { video, magnify }) {
  const figure = element('figure', { class: 'frame', 'data-frame-index': index });
  const stage = element('div', { class: 'stage' });
  stage.append(picture, overlay(faces, width, height, magnify));
  const caption = element('figcaption');
  if (video) caption.append(line(`frame ${index} · ${faces.frame_time.toFixed(2)} s`, 'frame-time'));
  caption.append(
    line(
      faces.face_ids.length === 0
        ? 'no face'
        : faces.face_ids.map((id, i) => `#${id} ${faces.scores[i].toFixed(2)}`).join(' · '),
    ),
  );
  if (video) {
    caption.append(
      line(
        `removed: ${faces.removed.length ? faces.removed.map((id) => `#${id}`).join(', ') : 'none'}`,
        'removed',
      ),
    );
  }
  if (faces.rotation) {
    caption.append(line(`found after turning the picture ${faces.rotation}° clockwise`, 'rotation'));
  }
  figure.append(stage, caption);
  if (faces.region.length > 0) figure.append(attributeTable(faces));
  if (faces.face_urls) figure.append(crops(faces));
  figure.dataset.drawn = 'true';
  return figure;
}
