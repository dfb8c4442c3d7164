// Package market owns the per-symbol rules of perpx: the config file's
// symbol (SymbolConfig, decimals) compiled into an integer Symbol, the
// conversions between decimal prices/quantities and book.Ticks/book.Lots,
// the fixed-point Money and Rate types, the maintenance-margin tiers, and
// the mark price and funding rate (MarkState). It is pure: no clock (time is
// a unix-ms parameter), no goroutines, no I/O; errors are package-prefixed
// sentinels wrapped with detail.
//
// # Units
//
// A price is a count of ticks, a quantity a count of lots, money is Money
// (int64, 1e-8 of the quote asset) and rates are Rate (int64, 1e-8). The
// contract multiplier m = tick × lot × 1e8 is the Money value of one lot at a
// price of one tick; Compile requires it to be a whole number ≥ 1 (tick 0.1,
// lot 0.001 → m = 10 000). For a linear contract
//
//	Value(p, q)    = q × p × m            (signed, + long)
//	Notional(p, q) = |Value(p, q)|
//	PnL(q, C, p)   = Value(p, q) − C      (C: cost basis, the sum of the
//	                                       open fills' values)
//
// For an inverse (coin-margined) contract, settled in Settle (the base
// coin), with K = lot × contract_size × 1e8 / tick Money·ticks per lot:
//
//	Value(p, q)    = −sign(q) × ⌊|q| × K / p⌋   (a long's value is negative)
//	Notional(p, q) = |Value(p, q)|
//	PnL(q, C, p)   = Value(p, q) − C        (the same formula: a long of 100 000
//	                                         XBTUSD contracts from 10 000 to
//	                                         10 500 makes 0.47619048 BTC)
//
// The magnitude rounds down, so a trade's two sides are worth exactly
// opposite amounts. Values are not additive (⌊a⌋ + ⌊b⌋ ≠ ⌊a + b⌋), so risk
// splits a value by subtraction (a flip's opening part, an order's
// remaining notional, a leg's bankruptcy part): money is conserved to the
// satoshi (risk's TestConservationPropertyInverse). ValueDiff(a, b, q) =
// Value(a, q) − Value(b, q) replaces linear's Value(a − b, q).
// MaxQty × K ≤ MaxNotionalCap (a lot is worth at most K, at one tick);
// MaxPrice only bounds tick arithmetic (DefaultInverseMaxPrice).
//
// # Bounds (why int64 never overflows)
//
// MaxPrice × MaxQty × m ≤ MaxNotionalCap = 1e17 Money (1e9 USDT): a position
// and its cost basis fit with room for sums over an account (risk caps an
// account at 32 symbols). When max_price/max_qty are omitted, with
// budget = MaxNotionalCap / m: MaxPrice = 10^(digits(budget)/2) ticks,
// MaxQty = budget / MaxPrice. Demo symbols: BTC-PERP 1e7 ticks (1 000 000
// USDT) × 1e6 lots (1000 BTC); ETH-PERP 1e7 ticks (100 000 USDT) × 1e6 lots
// (10 000 ETH). Products of a Money and a Rate go through MulDiv (128-bit
// intermediate).
//
// # Maintenance margin tiers
//
// Tier k covers notional N in (MaxNotional_{k−1}, MaxNotional_k] (the last
// tier also everything above) with rate r_k:
//
//	MM(N)  = ⌈N × r_k⌉ − Cum_k
//	Cum_0  = 0,  Cum_k = Cum_{k−1} + MaxNotional_{k−1} × (r_k − r_{k−1})
//
// which equals the marginal sum Σ_j r_j × (slice of N in tier j), so MM is
// continuous and increasing. Compile requires every Cum_k to be a whole
// Money amount (true whenever tier bounds are whole USDT), so the only
// rounding is the final ceiling. A tier's max leverage defaults to
// min(max_leverage, ⌊1/(2 r_k)⌋) — initial margin at least twice the
// maintenance margin — and must satisfy lev × r_k < 1 when configured.
//
// # Premium index and funding rate
//
// With impact bid/ask prices from the book (0 = that side is too thin):
//
//	premium = (max(0, impactBid − index) − max(0, index − impactAsk)) / index
//
// truncated to a Rate and clamped to ±100 %. MarkState time-weights the
// premium over the funding interval (each value counts for the milliseconds
// it was in force) and
//
//	rate = clamp(avg + clamp(interest − avg, ±PremiumClamp), ±FundingCap)
//
// with interest = 0.01 % per 8 h scaled to the interval, PremiumClamp 0.05 %
// and FundingCap = max(0.75 × r_0, PremiumClamp) (Binance's model). Before
// any time has passed in an interval the current premium stands for avg.
//
// # Mark price
//
//	mark = index + index × rate × (nextFunding − now) / interval
//
// rounded toward zero and clamped to [1, MaxPrice]: the index plus a funding
// basis that decays linearly to zero at the funding time. With funding off
// the mark is the index and the rate is 0.
//
// # Funding times
//
// Funding times are the multiples of the interval since the Unix epoch. The
// first input at or after a funding time returns Due with DueRate (the rate
// of the interval that ended) to be paid at the returned mark; if whole
// intervals passed without input they are skipped (one payment).
//
// # Config defaults
//
// Zero fields of SymbolConfig take API.md's example values: quote USDT,
// tick 1, lot 1, max_leverage 100, mm_tiers [{1e9, 0.01}], price_band 0.5,
// funding_interval_s 28800, funding on, adl_mode "adl"; an omitted (nil)
// liquidation_slippage is 0.05, a given 0 stays 0. DemoSymbols are
// BTC-PERP and ETH-PERP with max leverage 100, maker 0.0002, taker 0.0005,
// liquidation fee 0.005, band 0.1, 8 h funding, min notional 5 USDT and six
// tiers from 0.5 % (100x) to 12.5 % (4x).
package market
