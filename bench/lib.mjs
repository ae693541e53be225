// Helpers shared by the benchmark scripts.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const RECEIVER = fileURLToPath(new URL('./receiver.mjs', import.meta.url));

/** Forks bench/receiver.mjs and resolves once it listens on 127.0.0.1. */
export async function startReceiver({ delayMs = 0, mode = 'ok' } = {}) {
  const args = [...(delayMs > 0 ? [`--delay=${delayMs}`] : []), `--mode=${mode}`];
  const child = fork(RECEIVER, args, { stdio: 'inherit' });
  const [message] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => {
      throw new Error('bench receiver exited before listening');
    }),
  ]);
  const url = `http://127.0.0.1:${message.port}/hooks`;
  return {
    url,
    async received() {
      child.send('count');
      const [reply] = await once(child, 'message');
      return reply.received;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const SIZE = 1024;

/** `count` distinct LaunchDarkly change-history entries (~650 bytes of JSON each) for `proj/<project>`. */
export function ldEvents(count = SIZE, project = 'default') {
  const events = [];
  for (let i = 0; i < count; i++) {
    const flag = `flag-${i % 97}`;
    events.push({
      _id: `61f0c1d2e3${String(i).padStart(14, '0')}`,
      _links: {
        canonical: { href: `/api/v2/flags/${project}/${flag}`, type: 'application/json' },
        parent: { href: '/api/v2/auditlog', type: 'application/json' },
        self: { href: `/api/v2/auditlog/61f0c1d2e3${i}`, type: 'application/json' },
      },
      date: 1_700_000_000_000 + i,
      kind: 'flag',
      name: `Flag ${flag}`,
      description: `- Changed the default variation of ${flag} from false to true`,
      shortDescription: '',
      member: {
        _id: '507f1f77bcf86cd799439011',
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
      },
      titleVerb: 'changed the flag',
      title: `Ada Lovelace changed the flag ${flag} in Production`,
      target: { name: `Flag ${flag}`, resources: [`proj/${project}:env/production:flag/${flag}`] },
      accesses: [{ action: 'updateFallthrough', resource: `proj/${project}:env/production:flag/${flag}` }],
    });
  }
  return events;
}

export const SECRET = 'bench-secret-0123456789abcdef';

/** A webhook input that every event of `ldEvents(_, project)` matches. */
export function productionHook(url, project = 'default') {
  return {
    url,
    secret: SECRET,
    statements: [{ effect: 'allow', actions: ['*'], resources: [`proj/${project}:env/production:flag/*`] }],
  };
}

/**
 * Runs `worker(i)` with `concurrency` loops for about `ms` milliseconds (no loop starts work after that);
 * resolves with how many calls completed and the time it took, draining included.
 */
export async function runFor(ms, concurrency, worker) {
  let next = 0;
  const started = performance.now();
  const end = started + ms;
  const loop = async () => {
    while (performance.now() < end) await worker(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { count: next, ms: performance.now() - started };
}

/** Runs `batch(i, size)` (which handles items i..i+size-1) back to back for about `ms` milliseconds. */
export async function runBatchesFor(ms, size, batch) {
  let done = 0;
  const started = performance.now();
  const end = started + ms;
  while (performance.now() < end) {
    await batch(done, size);
    done += size;
  }
  return { count: done, ms: performance.now() - started };
}

/**
 * Measures the variants in interleaved blocks (`blocks` rounds, the order rotated every round), so that a
 * machine getting slower or faster during the run affects them alike. Returns per-variant rates (items/s), one per
 * block; compare them block by block with {@link pairedRatio}.
 */
export async function interleave(variants, blocks, onBlock = () => {}) {
  const rates = Object.fromEntries(variants.map(([name]) => [name, []]));
  for (let block = 0; block < blocks; block++) {
    for (let k = 0; k < variants.length; k++) {
      const [name, run] = variants[(block + k) % variants.length];
      onBlock(block, name);
      const { count, ms } = await run();
      rates[name].push(rate(count, ms));
    }
  }
  return rates;
}

/** The median over blocks of `a[i] / b[i]`: a ratio that noise common to both sides cancels out of. */
export function pairedRatio(a, b) {
  return median(a.map((value, i) => value / b[i]));
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function rate(count, ms) {
  return (count * 1000) / ms;
}

export function formatNumber(value, digits = 0) {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
