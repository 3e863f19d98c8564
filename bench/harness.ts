// Shared measuring helpers for bench/*.bench.ts. Throughput is measured in rounds of a fixed
// duration, ours and the peer's interleaved, and the best round of each is kept, so a GC pause
// or a busy neighbour core penalises both sides alike rather than one.

export interface BenchLine {
  name: string;
  unit: string;
  value: number;
  peer: string;
  peerValue: number;
  ratio: number;
}

export function report(line: BenchLine): void {
  console.log(JSON.stringify(line));
}

function round(value: number): number {
  return Number(value.toPrecision(4));
}

/** Operations per second of `run` (which performs `opsPerCall` operations) over ~`ms` milliseconds. */
function opsPerSecond(run: () => void, opsPerCall: number, ms: number): number {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 16; i++) run();
    calls += 16;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (calls * opsPerCall * 1000) / elapsed;
}

/** Compares ours against the peer in ops/s (higher is better); ratio = ours / peer. */
export function compareThroughput(
  name: string,
  unit: string,
  ours: () => void,
  peer: string,
  theirs: () => void,
  opsPerCall = 1,
): BenchLine {
  let best = 0;
  let bestPeer = 0;
  for (let roundIndex = 0; roundIndex < 6; roundIndex++) {
    best = Math.max(best, opsPerSecond(ours, opsPerCall, 150));
    bestPeer = Math.max(bestPeer, opsPerSecond(theirs, opsPerCall, 150));
  }
  const line = { name, unit, value: round(best), peer, peerValue: round(bestPeer), ratio: round(best / bestPeer) };
  report(line);
  return line;
}

/** Heap bytes retained per item when `make()` results are kept alive (needs --expose-gc). */
export function retainedBytesPerItem(make: (index: number) => unknown, count: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc (npm run bench does)");
  const keep: unknown[] = new Array(count);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) keep[i] = make(i);
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (keep.length !== count) throw new Error("unreachable: keeps results alive until measured");
  return round((after - before) / count);
}
