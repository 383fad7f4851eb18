// The try-it page's batches: several files sent as one POST /detect/batch, and one result drawn per file.
// No state of its own; the page passes in how it sends and what it shows.

import { poll, ServiceError } from './detect-client.js';
import { element, line } from './face-drawing.js';
import { renderImage } from './frame-rendering.js';

/** The service's default MAX_BATCH_ITEMS; a service set lower answers 400, which the page shows. */
const MAX_BATCH_ITEMS = 16;

/**
 * Why `files` cannot go as one batch, or null when they can. With too many the page sends nothing rather
 * than the first 16: the order a browser lists dropped files in is not one a person sees, so the page
 * would be choosing which files to leave out, and a partial answer could pass for a whole one.
 */
export function batchProblem(files) {
  if (files.length <= MAX_BATCH_ITEMS) return null;
  return `${files.length} files chosen, and a batch takes at most ${MAX_BATCH_ITEMS} (MAX_BATCH_ITEMS): nothing was sent. Choose or drop ${MAX_BATCH_ITEMS} files or fewer.`;
}

/**
 * Sends `files` as one multipart form (a part named `file` per file, in order, and `options` as fields
 * written as in a query string) and follows the batch's job when it is answered 202; resolves with the
 * batch's answer. `onStatus` gets each poll's answer, with its `progress: {done, total}`.
 */
export async function detectBatch(files, options, { send, signal, onStatus }) {
  const form = new FormData();
  for (const file of files) form.append('file', file, file.name);
  for (const [name, value] of Object.entries(options)) form.append(name, String(value));
  const { status, body } = await send('detect/batch', { method: 'POST', body: form, signal });
  if (body.error_code !== 0) throw new ServiceError(body.error_msg, status);
  return body.error_msg === 'PENDING' ? poll(body, { signal, send, onStatus }) : body;
}

/**
 * One result per file, in the answer's order, which is the files': the picture with its faces drawn over
 * it, or the item's status and error instead. `sources` are `{ file, href }`, one per file.
 * Resolves with how many faces were found and how many items failed.
 */
export async function renderBatch(container, answer, sources) {
  const counts = { faces: 0, failed: 0 };
  for (const [index, item] of answer.items.entries()) {
    const { file, href } = sources[index];
    const article = element('article', {
      class: 'batch-item',
      'data-item-index': index,
      'data-status': item.status,
    });
    const caption = element('div', { class: 'item-caption' });
    caption.append(element('span', { class: 'item-name', title: file.name }, file.name));
    article.append(caption);
    container.append(article);
    const frame = item.error_code === 0 ? firstFrame(item.faces_obj) : undefined;
    if (!frame) {
      counts.failed += 1;
      caption.append(line('failed', 'item-count'));
      article.append(element('p', { class: 'item-error' }, failure(item)));
      continue;
    }
    const faces = frame.faces.region.length;
    counts.faces += faces;
    caption.append(line(`${faces} face${faces === 1 ? '' : 's'}`, 'item-count'));
    try {
      await renderImage(article, frame, href, { thumbnail: true });
    } catch (err) {
      article.append(element('p', { class: 'item-error' }, err.message));
    }
  }
  return counts;
}

/** The lowest-numbered frame of an answer (an image has only frame 0), as the renderers take it. */
function firstFrame(facesObj) {
  const [first] = Object.entries(facesObj)
    .map(([index, faces]) => ({ index: Number(index), faces }))
    .sort((a, b) => a.index - b.index);
  return first;
}

function failure(item) {
  if (item.error_code === 0) return `${item.status}: the answer holds no frame to draw.`;
  return `${item.status}: ${item.error_msg}`;
}
