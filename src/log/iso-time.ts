// A leaf with no imports: the durable delivery logs use it without copying the core into their bundles.

const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const digits = (s: string, from: number, to: number) => {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = digit(s, i);
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
};

/** Epoch ms of an ISO-8601 time; `YYYY-MM-DDTHH:mm:ss.sssZ` (what the dispatcher writes) without Date.parse. */
export function parseIsoTime(text: string): number {
  if (
    text.length === 24 &&
    text[4] === '-' &&
    text[7] === '-' &&
    text[10] === 'T' &&
    text[13] === ':' &&
    text[16] === ':' &&
    text[19] === '.' &&
    text[23] === 'Z'
  ) {
    const month = digits(text, 5, 7);
    const day = digits(text, 8, 10);
    const hour = digits(text, 11, 13);
    const minute = digits(text, 14, 16);
    const second = digits(text, 17, 19);
    if (month >= 1 && month <= 12 && day >= 1 && day <= 28 && hour <= 23 && minute <= 59 && second <= 59) {
      const ms = Date.UTC(digits(text, 0, 4), month - 1, day, hour, minute, second, digits(text, 20, 23));
      if (Number.isFinite(ms)) return ms;
    }
  }
  return Date.parse(text);
}
