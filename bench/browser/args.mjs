// What the browser benchmarks share: whole-number options (`--name N`) over defaults, and
// percentiles of sorted samples.

// `defaults` with each `--name N` of `args` (N a whole number from 1) in its place; null
// for anything else, so that the caller prints its usage.
export function parseCounts(args, defaults) {
  const opts = { ...defaults };
  for (let i = 0; i < args.length; i += 1) {
    const key = args[i].replace(/^--/, "");
    const value = Number(args[i + 1]);
    if (!(key in opts) || !Number.isInteger(value) || value < 1) return null;
    opts[key] = value;
    i += 1;
  }
  return opts;
}

export const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
