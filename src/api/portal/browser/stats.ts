import { api, path } from './api.js';
import { el } from './dom.js';

/** A webhook's delivery figures (`GET /webhooks/:id/stats`), as far as the list reads them. */
interface StatsView {
  delivered?: number;
  failed?: number;
  successRate?: number | null;
  p95Ms?: number | null;
  lastDeliveredAt?: string | null;
  lastFailedAt?: string | null;
}

/** Figures read while the page is open, by webhook id (a re-render does not ask again; a reload does). */
const known = new Map<string, StatsView | null>();
/** Stats requests at once, so a list of 100 webhooks does not open 100 requests together. */
const AT_ONCE = 4;

const when = (at: string | null | undefined) => (at ? new Date(at).toLocaleString() : 'never');

/** The figures as one line: `Success 75% · p95 120 ms · last success … · last failure …`. */
export function statsText(stats: StatsView): string {
  if (!stats.delivered && !stats.failed) return 'No deliveries yet';
  const rate = typeof stats.successRate === 'number' ? `${Math.round(stats.successRate * 1000) / 10}%` : '–';
  const p95 = typeof stats.p95Ms === 'number' ? `${Math.round(stats.p95Ms)} ms` : '–';
  return `Success ${rate} · p95 ${p95} · last success ${when(stats.lastDeliveredAt)} · last failure ${when(stats.lastFailedAt)}`;
}

/** The card's stats line: filled now when known, else when its figures arrive. */
export function statsLine(id: string): HTMLElement {
  const line = el('p', { class: 'wp-card-stats wp-muted', 'data-stats': id });
  const stats = known.get(id);
  if (stats) line.textContent = statsText(stats);
  else line.hidden = true;
  return line;
}

/** Reads the figures of the webhooks not known yet and fills their lines; a webhook whose read fails shows none. */
export async function loadStats(ids: string[]): Promise<void> {
  const queue = ids.filter((id) => !known.has(id));
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      let stats: StatsView | null = null;
      try {
        stats = await api('GET', `${path('webhooks', id, 'stats')}?since=${Date.now() - 7 * 86_400_000}`);
      } catch {
        // A log without webhookStats (501) or a webhook just deleted: the card shows no figures.
      }
      known.set(id, stats);
      const line = document.querySelector<HTMLElement>(`[data-stats="${CSS.escape(id)}"]`);
      if (line && stats) {
        line.textContent = statsText(stats);
        line.hidden = false;
      }
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
}

/** Forgets what was read, so the list reads fresh figures when it is opened again. */
export function forgetStats(): void {
  known.clear();
}
