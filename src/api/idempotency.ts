import { createHash } from 'node:crypto';
import { describe } from '../core/describe.js';
import { numberOption, OptionsError } from '../extend.js';
import { readBody } from './body.js';
import { ApiError } from './errors.js';
import type { Tenant } from './tenant-guard.js';

/** `idempotency` of `createWebhookApi()`: how long, and how many, first responses are kept for `Idempotency-Key`. */
export interface IdempotencyOptions {
  /** How long a key answers with its first response. @default 86_400_000 (24 h) */
  ttlMs?: number;
  /** Keys kept at most; the least recently used goes first. @default 10_000 */
  maxEntries?: number;
  /** Bytes of kept responses at most (bodies, headers and keys); the least recently used go first. @default 16_777_216 (16 MiB) */
  maxBytes?: number;
}

/** Longest `Idempotency-Key` accepted (Stripe's limit). */
const MAX_KEY_LENGTH = 255;

interface Answer {
  status: number;
  headers: [string, string][];
  body: string;
}

interface Entry {
  fingerprint: string;
  expiresAt: number;
  bytes: number;
  /** Settles with the first response, or undefined when the first request failed (the key is free again). */
  answer: Promise<Answer | undefined>;
}

function replay(answer: Answer, replayed: boolean): Response {
  const headers = new Headers(answer.headers);
  if (replayed) headers.set('idempotent-replayed', 'true');
  return new Response(answer.status === 204 ? null : answer.body, { status: answer.status, headers });
}

/**
 * The first successful response to each `(tenant, Idempotency-Key)`, kept for `ttlMs` in an LRU bounded by count
 * and bytes. A request with a kept key and the same method, path, Content-Type and body answers that response again
 * (with `Idempotent-Replayed: true`) without running the route; another request with the key answers 422. A
 * duplicate that arrives while the first is still running waits for it. Error answers are not kept: a corrected
 * retry may use the same key.
 */
export class IdempotencyCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(options: IdempotencyOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new OptionsError(
        'idempotency',
        `Expected \`idempotency\` to be an object or false, got ${describe(options)}`,
      );
    }
    this.#ttlMs = numberOption('idempotency.ttlMs', options.ttlMs, 86_400_000, { positive: true });
    this.#maxEntries = numberOption('idempotency.maxEntries', options.maxEntries, 10_000, {
      positive: true,
      integer: true,
      max: 10_000_000,
    });
    this.#maxBytes = numberOption('idempotency.maxBytes', options.maxBytes, 16 * 1024 * 1024, {
      positive: true,
      integer: true,
      max: 2 ** 40,
    });
  }

  /** Keys kept now (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes kept now, as counted against `maxBytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Runs `handle` once per key and request; `handle` gets the request with its body already read. */
  async run(
    tenant: Tenant,
    key: string,
    request: Request,
    maxBodyBytes: number,
    handle: (request: Request) => Promise<Response>,
  ): Promise<Response> {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
      throw new ApiError(
        400,
        'ERR_INVALID_IDEMPOTENCY_KEY',
        `Expected the Idempotency-Key header to be 1 to ${MAX_KEY_LENGTH} printable ASCII characters`,
      );
    }
    const body = await readBody(request, maxBodyBytes);
    const url = new URL(request.url);
    const fingerprint = createHash('sha256')
      .update(
        `${request.method} ${url.pathname}${url.search}\n${request.headers.get('content-type') ?? ''}\n`,
      )
      .update(body ?? new Uint8Array())
      .digest('base64');
    const id = JSON.stringify([tenant, key]);
    for (;;) {
      const entry = this.#live(id);
      if (entry === undefined) break;
      if (entry.fingerprint !== fingerprint) {
        throw new ApiError(
          422,
          'ERR_IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used for another request (another route or body): use a new key',
        );
      }
      const answer = await entry.answer;
      if (answer !== undefined) return replay(answer, true);
      // The first request failed and freed the key: this one runs (or waits for another that started).
    }
    const again = new Request(request.url, {
      method: request.method,
      headers: request.headers,
      body: body ?? null,
    });
    return this.#first(id, fingerprint, () => handle(again));
  }

  /** The entry of `id` if it has not expired, moved to the most recently used end. */
  #live(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    this.#entries.delete(id);
    if (entry.expiresAt <= Date.now()) {
      this.#bytes -= entry.bytes;
      return undefined;
    }
    this.#entries.set(id, entry);
    return entry;
  }

  async #first(id: string, fingerprint: string, handle: () => Promise<Response>): Promise<Response> {
    let settle!: (answer: Answer | undefined) => void;
    const entry: Entry = {
      fingerprint,
      expiresAt: Date.now() + this.#ttlMs,
      bytes: id.length + fingerprint.length,
      answer: new Promise((resolve) => {
        settle = resolve;
      }),
    };
    this.#entries.set(id, entry);
    this.#bytes += entry.bytes;
    this.#evict();
    let answer: Answer | undefined;
    try {
      const response = await handle();
      answer = { status: response.status, headers: [...response.headers], body: await response.text() };
      return replay(answer, false);
    } finally {
      this.#keep(id, entry, answer);
      settle(answer);
    }
  }

  /** Keeps the answer under `id`, or frees the key when there is none or it is larger than the whole budget. */
  #keep(id: string, entry: Entry, answer: Answer | undefined): void {
    if (this.#entries.get(id) !== entry) return; // evicted meanwhile
    const size = answer === undefined ? 0 : answer.body.length * 2 + JSON.stringify(answer.headers).length;
    if (answer === undefined || answer.status >= 300 || entry.bytes + size > this.#maxBytes) {
      this.#entries.delete(id);
      this.#bytes -= entry.bytes;
      return;
    }
    entry.bytes += size;
    this.#bytes += size;
    this.#evict();
  }

  #evict(): void {
    for (const [id, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) return;
      this.#entries.delete(id);
      this.#bytes -= entry.bytes;
    }
  }
}
