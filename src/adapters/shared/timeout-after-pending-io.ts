/**
 * A timeout that, once due, first lets the I/O already waiting run. Timers run before the event
 * loop's poll phase and setImmediate callbacks after it, so when this process was stalled (a
 * loaded host descheduled it, or a long synchronous task held the loop) past the deadline, an
 * answer that arrived meanwhile is read and wins, instead of a timeout the peer never caused.
 * A peer that really did not answer still times out, one loop turn later. Returns the canceller.
 */
export function timeoutAfterPendingIo(ms: number, onTimeout: () => void): () => void {
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(onTimeout);
  }, ms);
  return () => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}
