import type { IncomingMessage, Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';

/** What the in-page callbacks use of the DOM: the project compiles without the DOM library. */
export interface PageNode {
  textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): ArrayLike<PageNode>;
}

/** The system's headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Without these, Chromium stalls trying to reach Google services on the closed network.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Waits until the page has drawn a result or shown an error, and says which. */
export async function settled(page: Page): Promise<{ state: string; error: string }> {
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 30_000 });
  return {
    state: (await page.getAttribute('body', 'data-state')) ?? '',
    error: (await page.textContent('#error')) ?? '',
  };
}

/** Each batch item the page shows: its file name, caption count, boxes drawn and error, in page order. */
export function batchItems(page: Page) {
  return page.$$eval('#frames .batch-item', (items: PageNode[]) =>
    Array.from(items).map((item) => ({
      name: item.querySelector('.item-name')?.textContent,
      count: item.querySelector('.item-count')?.textContent,
      boxes: item.querySelectorAll('rect[data-face-id]').length,
      error: item.querySelector('.item-error')?.textContent ?? null,
    })),
  );
}

export interface ArrivedPost {
  url?: string;
  type?: string;
  length: number;
  key?: string;
}

/** Records the POSTs `server` receives until `stop()`. */
export function recordPosts(server: Server): { arrived: ArrivedPost[]; stop: () => void } {
  const arrived: ArrivedPost[] = [];
  const record = (req: IncomingMessage) => {
    if (req.method !== 'POST') return;
    const { 'content-type': type, 'content-length': length, authorization: key } = req.headers;
    arrived.push({ url: req.url, type, length: Number(length), key });
  };
  server.prependListener('request', record);
  return { arrived, stop: () => server.off('request', record) };
}

/**
 * From now on, keeps in `window.sentParts` the parts of the last form the page hands to fetch, each
 * [name, value or file name]: the browser does not show a request body that holds files.
 */
export function watchSentForms(page: Page): Promise<void> {
  return page.evaluate(`{
    const fetchAsBefore = window.fetch;
    window.fetch = (url, init) => {
      if (init?.body instanceof FormData)
        window.sentParts = [...init.body.entries()].map(([n, v]) => [n, typeof v === 'string' ? v : v.name]);
      return fetchAsBefore(url, init);
    };
  }`);
}

/** From now on, keeps in `window.statusTexts` every text the page's status line shows. */
export function watchStatusLine(page: Page): Promise<void> {
  return page.evaluate(`{
    const line = document.getElementById('status-text');
    window.statusTexts = [];
    new MutationObserver(() => window.statusTexts.push(line.textContent)).observe(line, { childList: true });
  }`);
}
