/** YuNet's inference thread entry, for InferencePool's `threadUrl`. */
export const YUNET_THREAD_URL = new URL('./yunet.thread.js', import.meta.url);
