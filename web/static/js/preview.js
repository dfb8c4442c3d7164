// The order preview: what an order would cost and the liquidation price
// its position would have once it filled, computed from the symbol config
// the exchange publishes (/config.json) and the account's `state`, with
// the exchange's own integer rules (risk and market packages, DESIGN.md):
//
//   value(p, q)    linear q·p·m; inverse −q·K/p (|·| rounded down)
//   notional       |value|;  MM(n) = ⌈n·mmr⌉ − cum of n's tier
//   fee            ⌈notional·rate⌉ per fill (taker when it crosses the book)
//   cost           ⌈N/leverage⌉ + ⌈N·taker⌉ on the opening part, N at the
//                  margin price (linear: a buy's limit, a sell's max(limit,
//                  mark), a market buy's band top, a market sell's mark)
//   liquidation    for the position (q, C) after the fills, backed by W:
//                  the last tick x (long; first for a short) where
//                  W + value(x, q) − C ≤ MM(notional(x, q)).  W is the
//                  isolated margin, or the cash after fees and realized PnL
//                  plus Σ (uPnL − MM) of the account's other cross
//                  positions at their marks.
//
// An existing position's cost basis is C = value(mark, q) − uPnL, exact
// from `state`. The fills come from walking the book the page holds; a
// resting limit order is assumed to fill at its price as a maker.
import { SCALE, decimals, scaled, unitsOf, mulDiv, abs } from "./num.js";

const money = (d) => scaled(d, 8);

// compileSymbol turns /config.json's symbol into integer units.
export function compileSymbol(s) {
  return {
    name: s.symbol, tick: s.tick, lot: s.lot, inverse: s.contract === "inverse",
    settle: s.settle, quote: s.quote,
    mult: BigInt(s.multiplier), invK: BigInt(s.inverse_k),
    tiers: s.mm_tiers.map((t) => ({ maxN: money(t.max_notional), mmr: money(t.mmr), cum: money(t.cum), maxLev: t.max_leverage })),
    taker: money(s.taker_fee), maker: money(s.maker_fee), band: money(s.price_band),
    minNotional: money(s.min_notional),
    maxPrice: unitsOf(s.max_price, s.tick), maxLev: s.max_leverage, defaultLev: s.default_leverage,
    priceDecimals: decimals(s.tick), qtyDecimals: decimals(s.lot), raw: s,
  };
}

export function value(sym, p, q) {
  if (!sym.inverse) return q * p * sym.mult;
  if (p <= 0n) return 0n;
  const v = (abs(q) * sym.invK) / p;
  return q > 0n ? -v : v;
}

export const notional = (sym, p, q) => (sym.inverse ? -value(sym, p, abs(q)) : value(sym, p, abs(q)));
export const pnl = (sym, q, cost, p) => value(sym, p, q) - cost;

export function maintenance(sym, n) {
  const t = sym.tiers.find((t) => n <= t.maxN) || sym.tiers[sym.tiers.length - 1];
  return mulDiv(n, t.mmr, SCALE, true) - t.cum;
}

export const fee = (n, rate) => mulDiv(n, rate, SCALE, rate > 0n);

function ceilDiv(a, b) {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

// band is the lowest and highest order price around mark.
export function band(sym, mark) {
  const w = mulDiv(mark, sym.band, SCALE, false);
  const lo = mark - w < 1n ? 1n : mark - w;
  const hi = mark + w > sym.maxPrice ? sym.maxPrice : mark + w;
  return [lo, hi];
}

// positionOf reads a `state` position as integers ({q, cost, mark}).
export function positionOf(sym, p) {
  const q = unitsOf(p.qty, sym.lot) * (p.side === "short" ? -1n : 1n);
  const mark = unitsOf(p.mark_price, sym.tick);
  return { q, mark, cost: value(sym, mark, q) - money(p.unrealized_pnl), margin: money(p.margin) };
}

// trade books a fill of d lots (signed) at price into pos and acct as
// risk.Account.trade does.
function trade(sym, acct, pos, d, price, rate) {
  acct.cash -= fee(notional(sym, price, d), rate);
  let closeQty = 0n, openValue = 0n;
  if (pos.q !== 0n && (pos.q > 0n) !== (d > 0n)) closeQty = abs(d) < abs(pos.q) ? abs(d) : abs(pos.q);
  if (closeQty > 0n) {
    const before = abs(pos.q), dc = d < 0n ? -closeQty : closeQty;
    const removed = closeQty < before ? mulDiv(pos.cost, closeQty, before, false) : pos.cost;
    const realized = -value(sym, price, dc) - removed;
    if (closeQty < abs(d)) openValue = value(sym, price, d) - value(sym, price, dc);
    pos.q += dc;
    pos.cost -= removed;
    if (pos.isolated) {
      pos.margin += realized;
      if (pos.q === 0n) {
        if (pos.margin > 0n) acct.cash += pos.margin;
        pos.margin = 0n;
      } else if (pos.margin > 0n) {
        const keep = mulDiv(pos.margin, abs(pos.q), before, true);
        acct.cash += pos.margin - keep;
        pos.margin = keep;
      }
    } else {
      acct.cash += realized;
    }
  }
  const open = abs(d) - closeQty;
  if (open > 0n) {
    const o = d < 0n ? -open : open;
    pos.q += o;
    pos.cost += closeQty > 0n ? openValue : value(sym, price, o);
    if (pos.isolated) {
      const im = ceilDiv(notional(sym, price, o), pos.lev);
      acct.cash -= im;
      pos.margin += im;
    }
  }
}

// lastTrue is the largest x in [lo, hi] with pred(x) (pred true up to a
// point, false after), lo − 1 when none.
function lastTrue(pred, lo, hi) {
  let t = lo - 1n, f = hi + 1n;
  while (f - t > 1n) {
    const m = t + (f - t) / 2n;
    if (pred(m)) t = m;
    else f = m;
  }
  return t;
}

// liquidationTick solves the position's liquidation tick backed by w; null
// when no price in [1, MaxPrice] liquidates it.
export function liquidationTick(sym, pos, w) {
  const liqAt = (x) => w + pnl(sym, pos.q, pos.cost, x) <= maintenance(sym, notional(sym, x, pos.q));
  if (pos.q > 0n) {
    const x = lastTrue(liqAt, 1n, sym.maxPrice);
    return x >= 1n ? x : null;
  }
  const x = lastTrue((x) => !liqAt(x), 1n, sym.maxPrice) + 1n;
  return x <= sym.maxPrice ? x : null;
}

// fillsFor walks the book (levels [ticks, lots], best first) for an order
// of lots on side up to limit (null: no limit): the taker fills and what
// is left.
export function walk(levels, side, lots, limit) {
  const fills = [];
  let left = lots;
  for (const [p, q] of levels) {
    if (left === 0n) break;
    if (limit !== null && (side === "buy" ? p > limit : p < limit)) break;
    const take = q < left ? q : left;
    fills.push({ price: p, lots: take, taker: true });
    left -= take;
  }
  return { fills, left };
}

// preview computes an order's cost and the liquidation price after it.
//   sym: compileSymbol's; order: {side, type, price, qty, trigger, tif,
//   reduceOnly, postOnly, closePosition} as the form has them (decimal
//   strings); ctx: {book: {bids, asks} as [ticks, lots] best first, mark
//   (ticks), account (state's ACCOUNT or null), leverage (number),
//   isolated (bool), symbols (name → compiled), isolatedOf(name)}.
// Returns {cost, fee, fillLots, liq, note} (BigInt money / ticks / lots;
// liq null when none, undefined when unknown).
// marginPrice is the price a limit order's reservation is valued at
// (risk): a linear buy at its price, a sell at its price or the mark (ref)
// if higher; an inverse contract the other way round.
function marginPrice(sym, buy, price, ref) {
  if (sym.inverse) return buy ? (price < ref ? price : ref) : price;
  return buy ? price : price > ref ? price : ref;
}

// sideTotals sums the symbol's open plain orders by side as risk does:
// their open lots and notional at the margin price (now), reduce-only and
// untriggered ones aside (they reserve nothing).
function sideTotals(sym, orders, ref) {
  const t = { buy: { q: 0n, n: 0n }, sell: { q: 0n, n: 0n } };
  for (const o of orders || []) {
    if (o.symbol !== sym.name || o.reduce_only || o.status === "untriggered" || !(o.side in t)) continue;
    const p = unitsOf(o.price, sym.tick), q = unitsOf(o.qty, sym.lot), f = unitsOf(o.filled_qty || "0", sym.lot);
    if (p === null || p <= 0n || q === null || f === null || q <= f) continue;
    t[o.side].q += q - f;
    t[o.side].n += notional(sym, marginPrice(sym, o.side === "buy", p, ref), q - f);
  }
  return t;
}

export function preview(sym, order, ctx) {
  const out = { cost: null, fee: 0n, fillLots: 0n, liq: undefined, note: "" };
  const mark = ctx.mark;
  if (!mark) return { ...out, note: "No mark price yet." };
  const buy = order.side === "buy";
  const cur = ctx.account?.positions?.find((p) => p.symbol === sym.name);
  const pos0 = cur ? positionOf(sym, cur) : { q: 0n, cost: 0n, margin: 0n, mark };
  let lots = order.closePosition ? abs(pos0.q) : order.qty ? unitsOf(order.qty, sym.lot) : null;
  if (lots === null || lots <= 0n) return { ...out, note: order.qty ? "The quantity is not a whole number of lots (" + sym.lot + ")." : "" };
  const conditional = order.type !== "limit" && order.type !== "market";
  const isMarket = order.type === "market" || order.type.endsWith("_market");
  let price = null;
  if (!isMarket) {
    price = order.price ? unitsOf(order.price, sym.tick) : null;
    if (price === null || price <= 0n) return { ...out, note: order.price ? "The price is not a whole number of ticks (" + sym.tick + ")." : "" };
  }
  // The price the order is checked at: the mark now, or its trigger when it fires.
  let ref = mark;
  if (conditional) {
    const t = order.trigger ? unitsOf(order.trigger, sym.tick) : null;
    if (t !== null && t > 0n) ref = t;
  }
  const [lo, hi] = band(sym, ref);

  // Fills: a conditional order at its trigger (market) or limit; a plain
  // one against the book, the rest of a GTC limit order as a maker.
  let fills = [];
  let left = lots;
  if (conditional) {
    fills = [{ price: isMarket ? ref : price, lots, taker: true }];
    left = 0n;
  } else {
    const levels = buy ? ctx.book.asks : ctx.book.bids;
    const w = walk(levels, order.side, lots, isMarket ? (buy ? hi : lo) : price);
    fills = w.fills;
    left = w.left;
    if (!isMarket && order.postOnly && fills.length) out.note = "Post-only: this price would take liquidity, so the exchange will refuse it.";
    if (!isMarket && left > 0n && (order.tif || "GTC") === "GTC") {
      fills.push({ price, lots: left, taker: false });
      left = 0n;
    }
    if (left === lots) out.note = "Nothing would fill against the book at this price now: the order would expire.";
    else if (left > 0n) out.note = "Only part would fill against the book now; the rest would expire.";
  }
  out.fillLots = lots - left;

  // Cost: initial margin and taker fee on the opening part (risk.PreTrade).
  const lv = Number(ctx.leverage || sym.defaultLev);
  if (!Number.isInteger(lv) || lv <= 0) return { ...out, note: "The leverage is a whole number of times (1, 2, … up to the symbol's maximum)." };
  const lev = BigInt(lv);
  const closeCap = (b) => ((b && pos0.q < 0n) || (!b && pos0.q > 0n) ? abs(pos0.q) : 0n);
  const open = order.reduceOnly || order.closePosition ? 0n : lots > closeCap(buy) ? lots - closeCap(buy) : 0n;
  let mp;
  if (isMarket) mp = sym.inverse ? (buy ? ref : lo) : buy ? hi : ref;
  else mp = marginPrice(sym, buy, price, ref);
  const n = notional(sym, mp, open);
  out.cost = ceilDiv(n, lev) + mulDiv(n, sym.taker, SCALE, true);
  if (!isMarket && !conditional && open > 0n && ctx.account) {
    // A resting order shares its side's reservation with the symbol's other
    // open orders, and risk keeps the larger side's need (risk's sideReq):
    // the order costs what it adds to that.
    const t = sideTotals(sym, ctx.account.open_orders, ref);
    const req = (b) => {
      const s = t[b ? "buy" : "sell"], c = closeCap(b);
      if (s.q <= c) return 0n;
      const m = c > 0n ? mulDiv(s.n, s.q - c, s.q, true) : s.n;
      return ceilDiv(m, lev) + mulDiv(m, sym.taker, SCALE, true);
    };
    const max = (a, b) => (a > b ? a : b);
    const before = max(req(true), req(false));
    const side = t[buy ? "buy" : "sell"];
    side.q += lots;
    side.n += notional(sym, mp, lots);
    out.cost = max(req(true), req(false)) - before;
  }

  for (const f of fills) out.fee += fee(notional(sym, f.price, f.lots), f.taker ? sym.taker : sym.maker);

  // The account after the fills.
  if (!ctx.account) return out;
  const acct = { cash: money(ctx.account.balances?.[sym.settle] ?? "0") };
  const others = [];
  for (const p of ctx.account.positions || []) {
    const s = ctx.symbols[p.symbol];
    if (!s || s.settle !== sym.settle) continue; // another wallet backs it
    const iso = p.margin_mode ? p.margin_mode === "isolated" : ctx.isolatedOf(p.symbol);
    if (iso) acct.cash -= money(p.margin); // balances include isolated margins
    if (p.symbol !== sym.name && !iso) others.push({ s, ...positionOf(s, p) });
  }
  const pos = { ...pos0, isolated: !!ctx.isolated, lev, margin: ctx.isolated ? pos0.margin : 0n };
  for (const f of fills) trade(sym, acct, pos, buy ? f.lots : -f.lots, f.price, f.taker ? sym.taker : sym.maker);
  if (pos.q === 0n) {
    out.liq = null;
    return out;
  }
  let w = pos.isolated ? pos.margin : acct.cash;
  if (!pos.isolated) {
    for (const o of others) w += pnl(o.s, o.q, o.cost, o.mark) - maintenance(o.s, notional(o.s, o.mark, o.q));
  }
  out.liq = liquidationTick(sym, pos, w);
  return out;
}
