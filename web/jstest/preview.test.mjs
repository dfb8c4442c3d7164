// Unit tests of the page's pure modules, run by js_test.go with
// `node --test`. The symbols come from the exchange's own config
// compilation (web.SymbolOf), in PERPX_SYMBOLS; the expected liquidation
// prices are API.md's and risk's worked examples, which the exchange's
// tests check too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileSymbol, preview } from "../static/js/preview.js";
import { Book } from "../static/js/book.js";
import { SCALE, fmt, nearestUnits, unitsOf, unitsToDecimal, mulDiv, toDecimal } from "../static/js/num.js";

const syms = Object.fromEntries(JSON.parse(process.env.PERPX_SYMBOLS).map((s) => [s.symbol, compileSymbol(s)]));

// liqAfter previews a limit buy of qty at price filling against one ask
// there, for an account holding cash and nothing else.
function liqAfter(name, { price, qty, cash, lev, isolated = false }) {
  const s = syms[name];
  const ticks = unitsOf(price, s.tick), lots = unitsOf(qty, s.lot);
  const p = preview(s, { side: "buy", type: "limit", price, qty, tif: "IOC" }, {
    book: { bids: [], asks: [[ticks, lots]] }, mark: ticks, leverage: lev, isolated,
    account: { balances: { [s.settle]: cash }, positions: [] }, symbols: syms, isolatedOf: () => isolated,
  });
  return { ...p, liqPrice: p.liq ? unitsToDecimal(p.liq, s.tick) : p.liq };
}

test("cross long 1 at 3750 backed by 750: liquidation 3100 (risk's worked example)", () => {
  assert.equal(liqAfter("SEED", { price: "3750", qty: "1", cash: "750", lev: 5 }).liqPrice, "3100");
});

test("isolated long 1 at 10000 with 1000 margin, mmr 0.4 %: liquidation 9036.14 (API.md MARGIN)", () => {
  const r = liqAfter("ISO", { price: "10000", qty: "1", cash: "5000", lev: 10, isolated: true });
  assert.equal(r.liqPrice, "9036.14");
  assert.equal(toDecimal(r.cost, 8), "1000.00000000");
});

test("inverse long 100000 at 10000 backed by 1 BTC: liquidation 9140 (API.md INVERSE, BitMEX)", () => {
  assert.equal(liqAfter("XBTUSD", { price: "10000", qty: "100000", cash: "1", lev: 100 }).liqPrice, "9140.0");
});

test("a fill that only closes leaves no position: no liquidation price", () => {
  const s = syms.SEED;
  const p = preview(s, { side: "sell", type: "market", qty: "1" }, {
    book: { bids: [[3700n, 5n]], asks: [] }, mark: 3750n, leverage: 5,
    account: { balances: { USDT: "750" }, positions: [{ symbol: "SEED", side: "long", qty: "1", mark_price: "3750", unrealized_pnl: "0", margin: "750" }] },
    symbols: syms, isolatedOf: () => false,
  });
  assert.equal(p.liq, null);
  assert.equal(p.cost, 0n);
});

test("decimals", () => {
  assert.equal(unitsOf("30000.5", "0.1"), 300005n);
  assert.equal(unitsOf("30000.55", "0.1"), null);
  for (const bad of [".5", "5.", "+5", "1e3", ""]) assert.equal(unitsOf(bad, "0.1"), null, bad); // the exchange refuses them
  assert.equal(nearestUnits("-1.25", "0.1"), -13n);
  assert.equal(mulDiv(-7n, 1n, 2n, true), -4n);
  assert.equal(mulDiv(-7n, 1n, 2n, false), -3n);
  assert.equal(fmt("1234567.891", 2), "1,234,567.89");
  assert.equal(fmt("-0.005", 2), "-0.01");
});

test("book: snapshot, diffs in sequence, a gap, grouping", () => {
  const b = new Book(syms["BTC-PERP"]);
  assert.equal(b.apply({ seq: 1 }), false); // not in sync yet
  b.load({ seq: 5, bids: [["29990.0", "1.000"], ["29989.9", "0.500"]], asks: [["30010.0", "2.000"]] });
  assert.deepEqual(b.levels("bids"), [[299900, 1000], [299899, 500]]);
  assert.equal(b.apply({ seq: 4, bids: [["1.0", "1.000"]] }), true); // already in the snapshot
  assert.equal(b.apply({ seq: 6, bids: [["29990.0", "0"]], asks: [["30000.1", "0.100"]] }), true);
  assert.deepEqual(b.levels("bids"), [[299899, 500]]);
  assert.deepEqual(b.levels("asks")[0], [300001, 100]);
  assert.equal(b.apply({ seq: 8 }), false); // 7 is missing
  assert.deepEqual(b.grouped("asks", 100, 5), [[300100, 2100]]); // asks round up to 10.0
  assert.deepEqual(b.grouped("bids", 100, 5), [[299800, 500]]); // bids round down
});

test("the fee shows before an account is chosen; a fractional leverage is a note, not a crash", () => {
  const s = syms["BTC-PERP"]; // the demo's fees
  const order = { side: "buy", type: "market", qty: "0.01" };
  const ctx = { book: { bids: [], asks: [[300000n, 100n]] }, mark: 300000n, leverage: 5, account: null, symbols: syms, isolatedOf: () => false };
  const p = preview(s, order, ctx);
  assert.ok(p.fee > 0n, `fee ${p.fee}`);
  assert.equal(p.fee, preview(s, order, { ...ctx, account: { balances: { USDT: "10000" }, positions: [] } }).fee);
  const q = preview(s, order, { ...ctx, leverage: 2.5 });
  assert.equal(q.cost, null);
  assert.match(q.note, /whole number/);
});

test("a resting order costs what it adds to the larger side's reservation (risk's sideReq)", () => {
  const s = syms["BTC-PERP"];
  const ctx = (orders) => ({ book: { bids: [], asks: [] }, mark: 300000n, leverage: 10, symbols: syms, isolatedOf: () => false,
    account: { balances: { USDT: "10000" }, positions: [], open_orders: orders } });
  const sell = { side: "sell", type: "limit", price: "30000.0", qty: "1.500", tif: "GTC" };
  const alone = preview(s, sell, ctx([])).cost;
  // A resting buy of 1.5 at 29000 already reserves its side: the sell adds
  // only what its side needs beyond that.
  const buy = { symbol: "BTC-PERP", side: "buy", price: "29000.0", qty: "1.500", filled_qty: "0", status: "new" };
  const withBuy = preview(s, sell, ctx([buy])).cost;
  const n = (p) => 1500n * p * s.mult; // 1.5 BTC in lots × ticks × multiplier
  const need = (v) => (v + 9n) / 10n + (v * s.taker + SCALE - 1n) / SCALE;
  assert.equal(alone, need(n(300000n)));
  assert.equal(withBuy, need(n(300000n)) - need(n(290000n)));
  // On the same side it adds its whole need; a reduce-only order reserves nothing.
  assert.equal(preview(s, { ...sell, side: "buy", price: "29000.0" }, ctx([buy])).cost, need(n(290000n)));
  assert.equal(preview(s, sell, ctx([{ ...buy, reduce_only: true }])).cost, alone);
});
