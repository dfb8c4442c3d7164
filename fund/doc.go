// Package fund owns the insurance fund: one balance per settlement asset
// (USDT first), the coverage reservations that keep concurrent liquidations
// from overdrawing it, the history of every change (FUNDEVENT) and daily
// totals. It is pure and single-threaded: the fund actor serializes calls,
// time is a parameter (Unix ms), nothing is sent, events are returned.
//
// Flows, per liquidation settlement (Settle):
//
//	surplus = what is left of the margin at execution
//	        = qty × (exec − bankruptcy) × mult   for a long
//	        = qty × (bankruptcy − exec) × mult   for a short
//	surplus > 0 → inflow  (liquidation_surplus)
//	fee     > 0 → inflow  (liquidation_fee)
//	surplus < 0 → deficit: paid from the liquidation's reservation first,
//	              then from the available balance; the rest is Uncovered
//	              and goes to ADL (package adl) — the balance never goes
//	              below zero.
//
// Deposits (Deposit) are inflows too. Risk computes the surplus (risk owns
// the settlement); the fund only books it.
//
// Reservations (DESIGN.md): before sending a liquidation order the risk
// actor asks Reserve(id, asset, needed) and gets R = min(available, needed),
// where available = balance − Σ open reservations; it bounds its IOC at
// B − R/qty (long) or B + R/qty (short), so no fill can lose more than R;
// each fill is Settle'd against id, then Release(id) frees what is left.
// Σ reservations ≤ balance always, so reserved money is always there.
//
// Invariants (Check, and the property test): per asset 0 ≤ reserved ≤
// balance, reserved = Σ open reservations, balance = deposits + surplus +
// fees − deficits paid. Memory is bounded: the history is a ring of
// Config.HistoryCap events (Since lets a subscriber catch up), daily totals
// keep Config.DailyCap UTC days per asset; lifetime totals are kept too.
//
// Reason strings are API.md's (deposit, liquidation_surplus,
// liquidation_deficit) plus liquidation_fee for the fee inflow.
//
// AppendSnapshot and DecodeSnapshot (snapshot.go, which describes the
// format) store the whole fund, reservations in flight and history
// included, so a decoded fund goes on exactly as the original would.
package fund
