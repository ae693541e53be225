/** How `url.full` is recorded: not at all, redacted, or by the host's own function. */
export type CaptureUrl = boolean | ((url: URL) => string | undefined);

/** `server.address`, `server.port` and (when captured) `url.full` of a webhook URL. */
export type UrlAttributes = {
  'server.address'?: string;
  'server.port'?: number;
  'url.full'?: string;
};

const MAX_CACHED = 1024;

/**
 * Reads the attributes of a URL once per URL: a dispatcher sends to the same few URLs over and over. The cache is
 * bounded (cleared when full), so hostile or ever-changing URLs cannot grow it.
 */
export function urlAttributesReader(
  captureUrl: CaptureUrl,
  onError: (error: unknown) => void,
): (url: string) => UrlAttributes {
  const cache = new Map<string, UrlAttributes>();
  return (url) => {
    let attributes = cache.get(url);
    if (attributes === undefined) {
      attributes = readUrl(url, captureUrl, onError);
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(url, attributes);
    }
    return attributes;
  };
}

function readUrl(url: string, captureUrl: CaptureUrl, onError: (error: unknown) => void): UrlAttributes {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {};
  }
  const attributes: UrlAttributes = {
    // IPv6 hosts without their brackets, as the conventions write them.
    'server.address': parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    'server.port': parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80,
  };
  if (captureUrl === true) {
    attributes['url.full'] = redactedUrl(parsed);
  } else if (typeof captureUrl === 'function') {
    try {
      const full = captureUrl(new URL(parsed.href));
      if (typeof full === 'string') attributes['url.full'] = full;
    } catch (error) {
      onError(error);
    }
  }
  return attributes;
}

/**
 * The URL with credentials replaced as the HTTP conventions ask (`REDACTED:REDACTED@`), every query value replaced
 * by `REDACTED` (webhook URLs carry tokens in them) and no fragment.
 */
export function redactedUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.username) copy.username = 'REDACTED';
  if (copy.password) copy.password = 'REDACTED';
  copy.hash = '';
  if (copy.search) {
    const redacted = new URLSearchParams();
    for (const key of copy.searchParams.keys()) redacted.append(key, 'REDACTED');
    copy.search = redacted.toString();
  }
  return copy.href;
}
