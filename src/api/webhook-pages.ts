import type { StoredWebhook } from './view.js';

/** One page of `GET /webhooks`, with the cursor of the next when there is one. */
export interface WebhookPage {
  items: StoredWebhook[];
  nextCursor?: string;
}

/**
 * Pages over `dispatcher.webhooks.list({ tenant })` (oldest first, by `createdAt` then `id`). The cursor names the
 * last webhook of a page, so a webhook created or deleted between two requests moves no other across a page edge.
 * Returns `undefined` for a cursor that is not one this function made (the route answers 400).
 */
export function pageOfWebhooks(
  webhooks: readonly StoredWebhook[],
  limit: number,
  cursor: string | undefined,
): WebhookPage | undefined {
  let rest = webhooks;
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    if (after === undefined) return undefined;
    rest = webhooks.filter((webhook) => byCreation(webhook, after) > 0);
  }
  const items = rest.slice(0, limit);
  const last = items[items.length - 1];
  return rest.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(last) } : { items };
}

type Position = Pick<StoredWebhook, 'createdAt' | 'id'>;

function byCreation(a: Position, b: Position): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function encodeCursor(webhook: Position): string {
  return Buffer.from(JSON.stringify([webhook.createdAt, webhook.id])).toString('base64url');
}

function decodeCursor(cursor: string): Position | undefined {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string') return { createdAt, id };
  } catch {
    // not a cursor of ours
  }
  return undefined;
}
