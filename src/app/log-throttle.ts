/**
 * A gate for repeated warnings (Redis down, database down): open at most once per `intervalMs`,
 * reporting how many calls it held back since it was last open.
 */
export function createLogThrottle(intervalMs = 10_000): () => { open: boolean; suppressed: number } {
  let last = 0;
  let held = 0;
  return () => {
    const now = Date.now();
    if (now - last < intervalMs) {
      held++;
      return { open: false, suppressed: held };
    }
    last = now;
    const suppressed = held;
    held = 0;
    return { open: true, suppressed };
  };
}
