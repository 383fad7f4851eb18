import { familyThreadUrl } from '../inference/family-thread.js';

/** YuNet's inference thread entry, for InferencePool's `threadUrl`. */
export const YUNET_THREAD_URL = familyThreadUrl('yunet');
