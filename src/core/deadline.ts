/**
 * `run()`'s answer, or a rejection once `ms` have passed without one: a store, a broker or a database that hangs
 * cannot hold a caller longer than that. A synchronous throw of `run` becomes a rejection, a plain value a
 * resolution, and the timer is cleared as soon as `run` settles.
 *
 * @param timeout the rejection: a message (for an `Error`) or a function making the error.
 * @param unref when true, the timer alone does not keep the process alive.
 */
export function within<T>(
  run: () => T | PromiseLike<T>,
  ms: number,
  timeout: string | (() => Error),
  unref = false,
): Promise<T> {
  let running: Promise<T>;
  try {
    running = Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(typeof timeout === 'string' ? new Error(timeout) : timeout()), ms);
    if (unref) timer.unref?.();
  });
  const settled = Promise.race([running, expired]);
  settled.then(
    () => clearTimeout(timer),
    () => clearTimeout(timer),
  );
  return settled;
}
