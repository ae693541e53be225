// Types of the Web platform the public API mentions (AbortSignal, fetch), written so the package's declarations
// compile in every TypeScript project: the global type when the program has one (the DOM lib, @types/node or
// a runtime's own), else the few members the library uses. TypeScript 7 no longer loads @types/node unless it
// is listed in `types`, and a server project rarely has the DOM lib.

/** The global `AbortSignal` type, or the members the library uses. */
export type AbortSignalLike = typeof globalThis extends { AbortSignal: { prototype: infer T } }
  ? T
  : {
      readonly aborted: boolean;
      readonly reason: unknown;
      addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
      removeEventListener(type: 'abort', listener: () => void): void;
    };

/** The global `fetch` function type, or the shape `fetchTransport()` calls. */
export type FetchFunction = typeof globalThis extends { fetch: infer F }
  ? F
  : (
      url: string,
      init: {
        method: string;
        headers: Record<string, string>;
        body: string;
        redirect: 'manual';
        signal: AbortSignalLike;
      },
    ) => Promise<{
      readonly status: number;
      readonly headers: { forEach(callback: (value: string, name: string) => void): void };
      readonly body: unknown;
    }>;
