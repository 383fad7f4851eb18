/** Bytes looked at: enough for a page's doctype or a JSON error's first field. */
const TEXT_HEAD_BYTES = 512;

/**
 * Whether bytes that are no known format are text: markup or JSON (an HTML page or an API's error, in any
 * charset), or UTF-8 without control characters other than whitespace. A character cut at the head's end
 * still counts.
 */
export function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, TEXT_HEAD_BYTES);
  const start = Buffer.from(head).toString('latin1').trimStart();
  if (start.startsWith('<') || start.startsWith('{')) return true;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
  return !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text);
}
