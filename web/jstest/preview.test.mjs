// Unit tests of the page's pure modules, run by js_test.go with
// `node --test`. The symbols come from the exchange's own config
// compilation (web.SymbolOf), in PERPX_SYMBOLS; the expected liquidation
// prices are API.md's and risk's worked examples, which the exchange's
// tests check too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileSymbol, preview } from "../static/js/preview.js";
import { Book } from "../static/js/book.js";
import { fmt, nearestUnits, unitsOf, unitsToDecimal, mulDiv, toDecimal } from "../static/js/num.js";

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
