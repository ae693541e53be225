/**
 * Splits an options object by a list of keys: the picked ones (only those present) and the rest. The durable
 * entries name each backend's queue and worker keys once, and every place that takes mixed options (a worker's,
 * a setup's) splits them with that one list.
 */
export function splitKeys<T extends object, K extends keyof T>(
  options: T,
  keys: readonly K[],
): [Pick<T, K>, Omit<T, K>] {
  const rest = { ...options } as Record<PropertyKey, unknown>;
  const picked: Record<PropertyKey, unknown> = {};
  for (const key of keys) {
    if (rest[key as PropertyKey] !== undefined) picked[key as PropertyKey] = rest[key as PropertyKey];
    delete rest[key as PropertyKey];
  }
  return [picked as Pick<T, K>, rest as Omit<T, K>];
}
