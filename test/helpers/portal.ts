import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's Chromium (`.ci/run` installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Screenshots for review land here (gitignored). */
export const ARTIFACTS = new URL('../.artifacts/', import.meta.url).pathname;

export function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/**
 * A loopback server mounting a Fetch-style handler under `prefix` (the page must work under any prefix); other
 * paths answer 404, as a host's other routes would.
 */
export async function serve(prefix: string, handler: (request: Request) => Promise<Response>) {
  const server = createServer((req, res) => {
    forward(req, res, prefix, handler).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: `${origin}${prefix}/`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  prefix: string,
  handler: (request: Request) => Promise<Response>,
) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  const request = new Request(`http://${req.headers.host}${req.url}`, {
    method: req.method,
    headers,
    body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
  });
  const response = new URL(request.url).pathname.startsWith(prefix)
    ? await handler(request)
    : new Response('not here', { status: 404 });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

/**
 * A browser context signed in as `tenant` (a cookie the host's tenant resolver reads), failing the test on any
 * page error, console error (CSP violations are reported there) or request to another origin.
 */
export async function openPortal(browser: Browser, url: string, tenant: string, width = 1280) {
  const origin = new URL(url).origin;
  const context: BrowserContext = await browser.newContext({
    viewport: { width, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  await context.addCookies([
    { name: 'tenant', value: tenant, url: origin, sameSite: 'Strict', httpOnly: true },
  ]);
  const problems: string[] = [];
  const page: Page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Chromium logs every 4xx answer as a console error; the API's refusals are part of the flows under test.
    if (message.type() === 'error' && !/the server responded with a status of 4\d\d/.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('request', (request) => {
    if (!request.url().startsWith(origin)) problems.push(`request to another origin: ${request.url()}`);
  });
  await page.goto(url);
  await expect.poll(() => page.locator('#wp-webhooks').count()).toBe(1);
  return {
    page,
    problems,
    async close() {
      await context.close();
    },
  };
}

/**
 * The few browser globals the tests read. The project type-checks without the DOM library (it is a Node
 * library); functions given to `page.evaluate` run in the page and cast `globalThis` to this.
 */
interface Dom {
  document: {
    activeElement: BrowserElement | null;
    body: BrowserElement;
    documentElement: { scrollWidth: number };
  };
  getComputedStyle(element: BrowserElement): {
    outlineStyle: string;
    outlineWidth: string;
    boxShadow: string;
  };
}
interface BrowserElement {
  id: string;
  matches(selector: string): boolean;
}

/** The id of the focused element in the page. */
export function focusedId(page: Page): Promise<string | undefined> {
  return page.evaluate(() => (globalThis as unknown as Dom).document.activeElement?.id);
}

/** The page's scroll width: wider than the viewport means horizontal scrolling. */
export function scrollWidth(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as Dom).document.documentElement.scrollWidth);
}

/** Presses Tab until `selector` has focus (keyboard only); fails after `max` presses. */
export async function tabTo(page: Page, selector: string, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    const there = await page.evaluate(
      (s) => (globalThis as unknown as Dom).document.activeElement?.matches(s) ?? false,
      selector,
    );
    if (there) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${selector} not reached with ${max} Tab presses`);
}

/** The focused element shows a visible focus indicator (an outline of 2px or more, or a box-shadow ring). */
export function focusIsVisible(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const { document, getComputedStyle } = globalThis as unknown as Dom;
    const active = document.activeElement;
    if (!active || active === document.body) return false;
    const style = getComputedStyle(active);
    return (
      (style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) >= 2) ||
      style.boxShadow !== 'none'
    );
  });
}
