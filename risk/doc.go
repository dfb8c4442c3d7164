// Package risk owns an account's risk state and rules: cash, one-way
// positions with exact cost basis, open-order margin reservations, leverage
// and margin mode per symbol, pre-trade checks, fill settlement, the
// mark-price liquidation trigger, liquidation takeover and settlement, ADL
// closes, funding payments, and the ACCOUNT report. Account is a pure value
// owned by one risk actor: methods return decisions (Code, results, events
// as values) and never send, log, read a clock or start goroutines. Map
// iteration is always sorted before it shows, so equal inputs give equal
// outputs.
//
// # Units and overflow
//
// Prices are book.Ticks, quantities book.Lots, money market.Money (1e-8).
// Positions stay within MaxQty: PreTrade caps |position + a side's open
// orders|, and ExcessOverMax names the orders to cancel when an ADL close
// moved the position from outside (the cancel races the book, as the
// reduce-only trim does). Fills never exceed MaxPrice, so a position's
// value, cost and uPnL are ≤ 1e17; an account holds ≤ 32 symbols and deposits stop at
// MaxBalance = 1e17, so every account sum stays below 2^62. Rates multiply
// through market.MulDiv (128-bit). The exchange must keep total deposits
// below ~1e18 (a single account can at most win everyone's money).
//
// # Positions and PnL
//
// qty is signed (+ long); C, the cost basis, is the exact signed sum of the
// open part's fill values (q × p × m). A fill of Δ lots at p splits into a
// closing part (towards zero, at most |qty|) and an opening part (the rest,
// so a fill crossing zero closes and reopens):
//
//	close c lots:  removed = C × c / |qty| (toward zero; all of C on a full close)
//	               realized = −Value(p, ∓c) − removed
//	open  o lots:  C += Value(p, ±o)
//
// Rounding only moves dust between partial closes; over a position's life
// the realized PnL is exactly Σ proceeds − Σ costs. Entry price = |C|/(|qty|
// × lot). Fees: ⌈Notional × feeRate⌉ toward +∞ (charges up, rebates down),
// always from cash, returned for the fees ledger.
//
// # Margin modes and money flows
//
// Cross: realized PnL, fees and funding go to cash; cash backs every cross
// position. Isolated: an opening fill moves ⌈value/leverage⌉ from cash into
// the position's margin; realized PnL and funding go to that margin; a
// partial close returns the closed share of the margin to cash; a full close
// returns all of it, or reports a negative margin as FillResult.Deficit
// (drawn from the fund). Balance = cash + Σ isolated margins.
//
// # Negative cash
//
// Cash may be below zero only while the account has an open position, and
// only through these flows:
//
//   - a cross close realizing a loss larger than cash (paid from the other
//     cross positions' unrealized profit);
//   - fees, cross funding and socialized charges taken from cash;
//   - an isolated opening fill's ⌈value/leverage⌉ plus fee taken at the fill
//     price, which can exceed what PreTrade reserved (a sell filled above its
//     margin price) or what cash holds (Available counts cross uPnL);
//   - AddMargin up to Available, which counts cross uPnL.
//
// An isolated margin may likewise be negative while its position is open
// (funding, socialized charges, partial-close losses). The cross check
// (OnMark, Liquidate) sees negative cash in the cross equity. It is settled
// at the latest when the account goes flat: a cross takeover moves cash into
// the Liquidation's Escrow and leaves 0; a fill or ADL close of the last
// position with cash < 0 reports the shortfall as FillResult.Deficit and
// sets cash to 0 (an isolated full close with margin < 0 likewise); a
// takeover of the last (isolated) position with cash < 0 adds the cash to
// the Liquidation's Escrow (hence its Deficit) and sets it to 0. So a flat
// account's Balance is its cash, ≥ 0, and Report never shows it negative
// (asserted after every step of the conservation walk).
//
// # Margins
//
//	IM(position)   = ⌈Notional(mark) / leverage⌉
//	MM(position)   = market tiers at Notional(mark)
//	Equity         = cash + Σ cross uPnL + Σ isolated (margin + uPnL)
//	Available      = cash + Σ cross uPnL − Σ cross IM − order margin
//	MarginRatio    = Σ cross MM / (cash + Σ cross uPnL)   (1.0 = liquidation)
//
// Withdraw needs amount ≤ cash and ≤ Available (equity afterwards still
// covers the margin in use). Order margin, per symbol: each side's open
// orders are valued at their margin price (buys: limit; sells: max(limit,
// mark); market buys: the band's top; market sells: the mark); the part of a
// side that would only close the position (up to |qty|, pro rata by
// notional) is free; the rest needs ⌈N/leverage⌉ + ⌈N × taker⌉. The symbol
// reserves the larger side (exchange practice: only one side can grow the
// position). PreTrade returns how much the reservation grew; OnOrderDone and
// fills release it, so Available is always current.
//
// Reduce-only choice: rejected with REDUCE_ONLY_REJECTED (never trimmed)
// unless its side opposes the position and its qty plus the side's open
// reduce-only qty ≤ |qty|; exempt from min notional. When the position later
// shrinks, FillResult.ReduceOnlyExcess asks the caller to cancel
// ExcessReduceOnly (newest first). Leverage is a whole number ≤ the
// symbol's max and ≤ the max of the tier of the worst-case notional
// (position plus one side's open orders, at the mark), checked by PreTrade
// and SetLeverage (LEVERAGE_TOO_HIGH).
//
// # Liquidation and bankruptcy prices
//
// For a position (q, C) backed by W, at price P:
//
//	E(P) = W + q·P·m − C            liquidatable  ⇔  E(P) ≤ MM(|q|·P·m)
//
// W is the isolated margin; for the cross liquidation price, cash + Σ other
// cross (uPnL − MM) at their marks (the mark of this symbol alone that
// triggers); for the cross bankruptcy price, the position's share of the
// equity less its own uPnL (the joint rule below). E − MM is monotone in P,
// so with r_k, Cum_k of the tier holding the root:
//
//	long:  P_liq = (C − W − Cum_k) / (q·m·(1 − r_k))      trigger: mark ≤ ⌊P_liq⌋
//	short: P_liq = (W − C + Cum_k) / (|q|·m·(1 + r_k))    trigger: mark ≥ ⌈P_liq⌉
//	long:  P_bk  = ⌈(C − W) / (q·m)⌉     short: P_bk = ⌊(W − C) / (|q|·m)⌋
//
// (C signed, so −C = |C| for a short). The closed form only seeds an exact
// integer search on the predicate above (a galloping search from the
// floating-point root), so the cached trigger tick agrees with evaluating
// E ≤ MM at every tick (tested against a brute-force scan). Worked example
// (per unit, tick 1, lot 1, tiers {3000: 3 %, 100000: 10 %}): long 1 at 3750
// with margin 750: P_bk = 3000; MM = 0.1P − 210 above 3000, so P_liq =
// (3750 − 750 − 210)/0.9 = 3100. Mirrored short (tiers {1500: 2 %, 100000:
// 5 %}): short 1 at 2500 with margin 500: P_bk = 3000, P_liq = (500 + 2500 +
// 45)/1.05 = 2900.
//
// The joint bankruptcy rule (k ≥ 2 cross positions). Taking each position's
// P_bk with the others at their marks would let every leg use the whole
// cross equity E = cash + Σ cross uPnL, so closing all k legs there would
// cost the fund (k−1)·E. Instead E is split over the cross positions in
// proportion to their maintenance margin at the marks (notional when Σ MM
// is 0):
//
//	e_i = E × MM_i / Σ MM   (toward zero; the last slot takes the rest, Σ e_i = E)
//	W_i = e_i − uPnL_i      so  P_bk,i = mark_i ∓ e_i / (|q_i|·m)   (long −, short +)
//
// rounded in the fund's favour as above: each leg is bankrupt where its own
// share is used up, its distance from the mark (relative) proportional to
// its effective MM rate. Closing every leg at its P_bk leaves the book with
// Σ_i E_i(P_bk,i) ∈ [0, Σ |q_i|·m): zero plus rounding dust for the fund
// (Liquidation.Base), never below zero unless a tick is clamped (below).
// One cross position has e = E and
// W = cash: the single-position formulas and the seed numbers above are
// unchanged. Example: two longs of 1 at 3750 on 1500 of cash, marks 3100:
// E = 200, MM 100 + 100, e = 100 each, P_bk = 3000 each (not 2900).
//
// Clamp. P_bk is clamped to [1, MaxPrice], so ADL closes and liquidation
// fills can always use it. Clamped in the fund's favour (a long whose
// backing exceeds its cost, a short bankrupt above MaxPrice), the leg only
// leaves more in Base. Clamped against the fund (a short bankrupt at every
// price: its share is so negative that even 1 tick leaves it below zero; a
// long bankrupt only above MaxPrice), the leg's equity at the tick is below
// zero: LiquidationLeg.Deficit, which the fund (or socialized charges) must
// cover even if the leg closes at its tick.
//
// # The mark trigger
//
// OnMark compares the mark with the cached trigger tick: one comparison per
// position. The tick is recomputed when the position or what backs it
// changes (fills, funding, deposits, withdrawals, margin moves, fees) —
// eagerly for isolated positions and for a lone cross position, whose W is
// only cash. With k ≥ 2 cross positions each cached tick assumes the others'
// marks, so instead of recomputing k ticks on every other symbol's tick,
// OnMark sums cash + Σ uPnL against Σ MM directly (O(k), k small) and the
// ticks are recomputed lazily for reports. Only marks trigger: ApplyFill,
// ApplyFunding and ApplyADLClose report Liquidate using the stored marks,
// never the trade price.
//
// # Liquidation
//
// StartLiquidation (after OnMark said so, re-checked) takes over the isolated
// position, or every cross position, into a Liquidation: Escrow = the margin
// or the whole cross cash (plus negative cash the takeover of the last
// position leaves), legs with their bankruptcy ticks (the joint rule),
// computed afresh at the stored marks. The account keeps zero of it (a flat
// account's balance is never negative), is InLiquidation
// (ACCOUNT_IN_LIQUIDATION) until EndLiquidation and gets the list of orders
// to cancel. The legs close through IOC liquidation orders (OrderLimit:
// bankruptcy ∓ R/(q·m) for a fund reservation R, never beyond the leg's
// PriceBound, bankruptcy ∓ liquidation_slippage, and clamped to the price
// band — DESIGN.md's rule) and, for what the book cannot absorb, ADL closes
// at the bankruptcy tick (Account.ApplyADLClose for the counterparty, no
// fee).
// Settlement:
//
//	gain per execution = sign(q) × qₑ × (pₑ − P_bk) × m     (SettlementSurplus)
//	Base     = Escrow − Σ (C − Value(P_bk, q))  (∈ [0, Σ |q|·m) unless clamped)
//	Deficit  = max(0, −Base)                   (the fund's cost at the P_bk)
//	Surplus  = Base + Σ gains = Escrow + Σ proceeds − Σ C
//	Fee      = min(max(Surplus, 0), Σ ⌈executed notional × liquidation_fee⌉)
//	Fund     = Surplus − Fee        (+ into the fund, − drawn from it)
//
// A funding payment of a leg while the liquidation holds it goes into Escrow
// and Base (Liquidation.Funding) and moves the leg's P_bk by it
// (MoveBankruptcy), rounded in the fund's favour: Base then grows by less
// than a tick per lot of the leg per payment.
//
// Seed: long bankrupt at 3000 sold at 3060 → +60, at 2960 → −40; short at
// 3000 bought at 2960 → +40, at 3060 → −60 (per unit, no fee). Fills of the
// account's own orders still in flight are applied normally.
//
// # Socialized loss
//
// On a market.ADLSocialized symbol a bankrupt leg's deficit is spread over
// the profitable opposite positions (adl.Ranking.Socialize gives amounts,
// each ≤ its profit at the mark). ApplySocializedCharge(sym, charge, mark)
// books one: realized PnL −charge to cash (cross) or the isolated margin;
// qty and cost basis stay, so the position's uPnL is unchanged and the
// account's equity drops by exactly charge, never below what it would be
// without that profit (charge ≤ uPnL at mark, else CHARGE_EXCEEDS_PROFIT).
// The caller credits the same amount to the deficit instead of drawing it
// from the fund, so Σ charges + fund draw = −Settlement.Fund and money is
// conserved to the unit. The charge may leave cash or the margin negative
// while the position is open (Negative cash).
//
// # Funding
//
// Payment of a position = −q × mark × m × rate (longs pay shorts when rate >
// 0); payers round up, receivers down. Σ q = 0 at one mark, so Σ paid ≥ Σ
// received and FundingTally.Dust (< one unit per position) goes to fees.
// Cross payments hit cash, isolated ones the margin.
//
// # Conservation
//
// With Value at one common mark per symbol:
//
//	Σ Balance + Σ uPnL + fund + fees + funding pool (+ Σ in-flight
//	Liquidation: Base + Σ gains + Σ Value(mark − P_bk, Remaining))
//	  = Σ deposits − Σ withdrawals
//
// exactly, in Money units; with every position flat: Σ balances + fund +
// fees = deposits − withdrawals. Σ uPnL = −Σ C because Σ q = 0.
//
// # ADL ranking
//
// ADLScore = (uPnL / |C|) × (Notional / equity) as a Rate (equity: the
// isolated margin + uPnL, or the cross equity); 0 when not in profit.
//
// # Snapshots
//
// AppendSnapshot and DecodeAccountSnapshot (snapshot.go, which describes
// the format) store what the account cannot derive and rebuild the rest,
// so a decoded account goes on exactly as the original would; an account in
// liquidation is stored as it is (its Liquidation is not part of it).
// Check verifies the invariants a decoded account must meet.
package risk
