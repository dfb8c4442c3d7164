// The order book the page holds: a depth snapshot plus the diffs of
// px.md.<sym>.book applied in sequence, and its grouped view for the
// ladder. Prices are kept as tick counts and sizes as lot counts.
import { unitsOf } from "./num.js";

export class Book {
  constructor(sym) {
    this.sym = sym;
    this.bids = new Map(); // ticks → lots (Numbers: exact below 2^53)
    this.asks = new Map();
    this.seq = null; // null: not in sync
    this.sorted = { bids: null, asks: null };
  }

  level(p, q) {
    const t = unitsOf(p, this.sym.tick), l = unitsOf(q, this.sym.lot);
    return t === null || l === null ? null : [Number(t), Number(l)];
  }

  // load replaces the book with a depth snapshot.
  load(snap) {
    this.bids.clear();
    this.asks.clear();
    this.put(this.bids, snap.bids);
    this.put(this.asks, snap.asks);
    this.seq = snap.seq;
  }

  put(side, levels) {
    this.sorted.bids = this.sorted.asks = null;
    for (const [p, q] of levels || []) {
      const lv = this.level(p, q);
      if (!lv) continue;
      if (lv[1] === 0) side.delete(lv[0]);
      else side.set(lv[0], lv[1]);
    }
  }

  // apply applies a diff; false when it does not follow the book's sequence
  // (a missed update: the caller re-syncs). Diffs the snapshot already has
  // are skipped.
  apply(u) {
    if (this.seq === null) return false;
    if (u.seq <= this.seq) return true;
    if (u.seq !== this.seq + 1) return false;
    this.put(this.bids, u.bids);
    this.put(this.asks, u.asks);
    this.seq = u.seq;
    return true;
  }

  // levels is one side best first, as [ticks, lots] Numbers.
  levels(side) {
    if (!this.sorted[side]) {
      const m = side === "bids" ? this.bids : this.asks;
      const arr = Array.from(m.entries());
      arr.sort(side === "bids" ? (a, b) => b[0] - a[0] : (a, b) => a[0] - b[0]);
      this.sorted[side] = arr;
    }
    return this.sorted[side];
  }

  // bigLevels is levels as BigInts, for the order preview (only the first n).
  bigLevels(side, n = 200) {
    return this.levels(side).slice(0, n).map(([t, l]) => [BigInt(t), BigInt(l)]);
  }

  // grouped buckets a side by group ticks (bids down, asks up), best first,
  // at most n buckets.
  grouped(side, group, n) {
    const out = [];
    for (const [t, l] of this.levels(side)) {
      const b = side === "bids" ? Math.floor(t / group) * group : Math.ceil(t / group) * group;
      const last = out[out.length - 1];
      if (last && last[0] === b) last[1] += l;
      else {
        if (out.length === n) break;
        out.push([b, l]);
      }
    }
    return out;
  }
}
