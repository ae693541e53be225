/**
 * The stop function of a store's `watch()` (its webhooks' or its circuits'), whatever `watch` returned: the function
 * itself; for an async `watch`, one that waits for it (a rejection goes to `onError`, never left unhandled);
 * anything else: `undefined` (no watch in place).
 */
export function watchStop(returned: unknown, onError: (error: unknown) => void): (() => unknown) | undefined {
  if (typeof returned === 'function') return returned as () => unknown;
  if (typeof (returned as PromiseLike<unknown> | null | undefined)?.then !== 'function') return undefined;
  const stop = Promise.resolve(returned).then(
    (value) => value,
    (error: unknown) => {
      onError(error);
      return undefined;
    },
  );
  return () => stop.then((value) => (typeof value === 'function' ? value() : undefined));
}
