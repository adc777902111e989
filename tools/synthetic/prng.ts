/**
 * Deterministic randomness for the synthetic population: mulberry32 (32-bit state, period 2^32)
 * seeded through a string hash, so that every household draws from its own stream derived from
 * (seed, household index). The same seed gives the same files byte for byte; Math.random is never used.
 */

/** FNV-1a over the UTF-16 code units of `text`, then a murmur3 finaliser: a 32-bit seed. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A stream of its own for `parts` under `seed`: independent of how much other streams drew. */
  static derive(seed: number, ...parts: (string | number)[]): Rng {
    return new Rng(hash32(`${seed >>> 0}/${parts.join('/')}`));
  }

  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)];
  }

  /** One of `items` with probability proportional to its weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    let u = this.next() * total;
    for (const [item, w] of items) {
      if (u < w) return item;
      u -= w;
    }
    return items[items.length - 1][0];
  }

  /** `count` digits, the first one not zero when `noLeadingZero`. */
  digits(count: number, noLeadingZero = false): string {
    let out = '';
    for (let i = 0; i < count; i += 1) out += String(i === 0 && noLeadingZero ? this.int(1, 9) : this.int(0, 9));
    return out;
  }
}
