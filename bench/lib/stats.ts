/** Percentile of an unsorted sample (nearest rank); 0 when empty. */
export function percentile(values: ArrayLike<number>, p: number, length = values.length): number {
  if (length === 0) return 0;
  const sorted = Float64Array.from({ length }, (_, i) => values[i] ?? 0).sort();
  const rank = Math.min(length - 1, Math.max(0, Math.ceil((p / 100) * length) - 1));
  return sorted[rank] ?? 0;
}

export const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

export const mb = (bytes: number): string => `${round(bytes / 1024 / 1024, 0)} MB`;
