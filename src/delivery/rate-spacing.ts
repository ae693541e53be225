/**
 * The least time between two starts of a webhook with `rateLimit: perSecond`, in µs, as a shared `RateLimitStore`
 * keeps it: evenly spaced starts put at most `perSecond` in any one-second window, also as the receiver sees them
 * (a burst of `perSecond` every second would not survive a few ms of network jitter at the window's edge).
 */
export function rateSpacingMicros(perSecond: number): number {
  return Math.ceil(1_000_000 / perSecond);
}
