// Package adl owns auto-deleveraging for every symbol: the ranking of open
// positions, the forced closes at a bankrupt position's bankruptcy price
// (Deleverage; DeleverageBatch serves many requests exactly as one after
// the other, from one merge per run of one side), the ADL indicator
// (Indicator, the five lights), the queue listing of px.adl.<sym>.queue
// (Top) and the socialized-loss split (Socialize). It is pure: no clock, no
// I/O, no goroutines. The ADL actor feeds it position updates from the risk
// actors (Update) and mark prices (SetMark) and sends the returned closes
// back to the risk actors.
//
// # Ranking (BitMEX's formula)
//
// For a position of qty lots with entry cost C (qty × entry × Multiplier,
// Money), margin M (collateral without its own unrealized PnL, supplied by
// risk) and the symbol's Multiplier k, at mark m (a linear contract; an
// inverse one below):
//
//	N        = qty × m × k                    notional at the mark
//	PnL      = N − C (long), C − N (short)
//	PnL%     = PnL / C
//	leverage = N / (M + PnL)                  effective leverage
//	score    = PnL% × leverage  when PnL > 0
//	         = PnL% ÷ leverage  when PnL ≤ 0
//	         = −Inf             when M + PnL ≤ 0 (bankrupt itself: last resort)
//
// The queue is score descending, ties by account ascending. Money is exact
// int64 (1e-8); scores are float64 computed without fused multiply-adds, so
// every platform ranks identically. A loss's equity ratio b+r (below) is
// summed without cancellation (score.go's equity), so positions a satoshi
// from bankruptcy still rank by their exact scores.
//
// Candidates: every opposite position is in the queue (as on BitMEX and
// Binance), but a profitable one always ranks before a losing one (score > 0
// against ≤ 0). Deleverage therefore closes exactly the requested quantity
// whenever the opposite side holds that much, which open-interest balance
// guarantees; otherwise it reports the uncovered rest. Closes are at the
// bankruptcy price, so the bankrupt and the closed positions trade with
// each other at one price: money and open interest are conserved (tested).
//
// # Inverse contracts
//
// Config describes the contract as market.Symbol does (Kind, Multiplier,
// InverseK), and every amount is market.Symbol's: for an inverse contract
// (settled in the base coin, K = InverseK) the value of q lots at p is
// −sign(q)·⌊|q|·K/p⌋ — a long's value and cost are negative — and PnL =
// Value − cost. The ranking takes costs and notionals as magnitudes, so
// with C = |cost| (≈ qty × K / entry) and N = ⌊qty × K / m⌋:
//
//	PnL      = C − N (long), N − C (short)    in the settlement coin
//	PnL%     = PnL / C,  leverage = N / (M + PnL),  score as above
//
// An inverse long gains as the value per lot K/m falls, so in values per
// lot it is shaped as a linear short (r = 1 − g) and an inverse short as a
// linear long (r = g − 1); g = N/C ≈ entry/m. The tree key stays the entry
// value per lot, C/qty ≈ K/entry — decreasing in the entry price, and still
// independent of the mark — and the mark enters as its value per lot,
// K/m; the merge below runs unchanged on "gains as the value per lot
// rises" instead of "long" (Ranking.up). The float score uses the
// unrounded value K·qty/m (N's floor would make it depend on qty as well
// as on the key); every Money amount — PnL, realized PnL, profit shares,
// the affordability test — uses the rounded values. A bankrupt position's
// realized PnL is its closes' values summed (each close is one trade whose
// two sides are worth exactly opposite amounts, as the liquidation leg
// fills once per close), so money is conserved to the satoshi.
//
// # Why a mark tick costs nothing
//
// The score depends on the mark, so a tree keyed on the score would need a
// full re-rank of every position on every tick, per symbol
// (BenchmarkRerankAll1M; bench/README.md has the figures). Instead the trees
// are keyed on what does not depend on the mark, and the exact order at the
// mark is produced only when it is needed (Deleverage, Top):
//
//   - Write g = N/C = m×k/(C/qty), r = PnL% (g−1 long, 1−g short) and
//     b = M/C. Then score = r·g/(b+r) in profit and r·(b+r)/g in loss:
//     for a fixed mark it is a function of the entry key C/qty and of b only.
//   - Positions are bucketed by b (16 buckets per octave, 1× to 1024×
//     leverage, each at most 6.25% wide); each bucket is a google/btree
//     BTreeG of value items keyed by (C/qty, b, account). SetMark stores a
//     number (O(1)); Update changes the position's record and notes it, and
//     the trees catch up (a delete + insert in one bucket, O(log n), 0
//     allocs) only when something walks them: a position reported many
//     times between two deleverages costs one tree change.
//   - Score is decreasing in b, so score(r, bucket floor) bounds a bucket.
//     As a function of r it has closed-form turning points (long:
//     r = sqrt(1−b)−1; short: r = 1−sqrt(1+b) and r = sqrt(b²+b)−b; see
//     merge.go), so each bucket splits into at most four key ranges on which
//     the bound is monotone, plus a range of surely-bankrupt positions.
//     Walking each range in the direction of a falling bound gives streams
//     whose head bounds everything behind it.
//   - A heap merges the stream heads (by bound) and the positions already
//     scored (by exact score). A scored position that reaches the top beats
//     every unseen one, so positions come out in exact rank order at the
//     current mark, after scoring only those whose bound came near the
//     winners. TestTopMatchesNaiveRanking checks it against a full sort.
//   - At one entry key the score falls as b grows, so a key's positions in
//     tree order (b, then account) are already ranked: a stream walks key
//     by key and a key enters the heap as one exact cursor over them. A
//     crowd sharing entry price and margin ratio (common in a cascade)
//     costs one tree step per position closed, not a scoring pass over the
//     crowd (per-position bounds would all sit above the crowd's one score,
//     so every member would be scored and heaped). Float ties between
//     margin ratios (every b scores 0 when r = 0) and a key's bankrupt
//     prefix are split off so the order stays exact
//     (TestTopMatchesNaiveRankingWithCrowds; details in merge.go).
//   - A bucket enters the heap as one entry bounding all of it (a short's
//     profit score peaks at r*, a long's at its lowest entry key) and opens
//     its streams, a tree seek each, only if that bound reaches the top.
//
// The indicator needs a rank among all n, so each side keeps its four
// quintile cuts, recomputed in O(n) (scores + quickselect) at most every
// Config.IndicatorRefreshMs; a query scores one position against four cuts.
// A position at rank p of n shows 5 − floor(5p/n): 5 = first in line.
//
// # Socialized loss
//
// Socialize splits a deficit over the profitable opposite positions in
// proportion to profit, in integers (socialize.go gives the rounding): the
// pieces sum exactly to min(deficit, total profit) and none exceeds its
// profit.
package adl
