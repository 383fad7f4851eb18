// The try-it page's side of the HTTP API: one call, following an asynchronous job, and the errors the page
// explains. No DOM here; the page passes in what it shows.

// The gateway's own list (shared/media/media-sniffer.ts): these URLs go to the video queue.
const VIDEO_PATH = /\.(mp4|mov|m4v|webm|mkv|avi|flv|wmv|mpg|mpeg|ts|m2ts|3gp|ogv)$/i;
const POLL_MS = 400;

export class ServiceError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export function isVideoUrl(value) {
  try {
    return VIDEO_PATH.test(new URL(value).pathname);
  } catch {
    return false;
  }
}

/** One request to the service with `key` (if any) as its bearer token; answers with the status and JSON body. */
export async function call(url, init, key) {
  const headers = { accept: 'application/json', ...init.headers };
  if (key) headers.authorization = `Bearer ${key}`;
  let res;
  try {
    res = await fetch(url, { ...init, headers });
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new Error(
      'Could not reach the service. Check that it is running and that this page comes from it.',
    );
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new ServiceError(
      `The service answered ${res.status} ${res.statusText} without a JSON body.`,
      res.status,
    );
  }
}

/**
 * Follows a pending job until it ends, with `send` making each status request, and `onStatus` called with
 * every status answer; resolves with the job's result.
 */
export async function poll(pending, { signal, send, onStatus }) {
  // connect-src 'self' lets the page call its own origin only, and PUBLIC_BASE_URL may name another one.
  const statusUrl =
    new URL(pending.status_url, location.href).origin === location.origin
      ? pending.status_url
      : `jobs/${encodeURIComponent(pending.job_id)}`;
  for (;;) {
    await sleep(POLL_MS, signal);
    const { status, body } = await send(statusUrl, { signal });
    if (status !== 200) throw new ServiceError(body.error_msg, status);
    // A job can finish between two polls; its last progress still says how many frames it took.
    onStatus(body);
    if (body.status === 'completed') return body.result;
    if (body.status === 'failed') throw new ServiceError(body.error_msg ?? 'The job failed.', status);
  }
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
