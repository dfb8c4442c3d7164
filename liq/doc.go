// Package liq owns the liquidation protocol: how a bankrupt account's
// positions, taken over by risk.Account.StartLiquidation, are closed —
// coverage quoted from the books and reserved from the insurance fund,
// one IOC order per leg limited so its loss stays within the leg's share
// of the reservation and its price within the symbol's
// liquidation_slippage of the bankruptcy price, the remainder
// auto-deleveraged against the ranked opposite positions at the leg's
// bankruptcy price, the shortfall on a
// socialized-loss symbol charged to the winners, and the settlement with
// the fund. DESIGN.md ("The liquidation protocol") has the states and
// transitions.
//
// A Machine is one liquidation as a deterministic state machine, shaped
// like etcd raft's Step/Ready: the caller feeds it typed inputs (Step) —
// the fund's reservation, an IOC order's fills, an ADL plan and its
// closes, a socialization's charges, a fired timer, a leg's funding
// payment (which moves its bankruptcy price, or, when the ADL round out at
// the time closed the whole leg, is passed to the round's counterparties as
// an adjustment of their closes) — and performs the
// typed effects it asks for (Ready): place an order, ask the fund or the
// ADL actor, wait, settle. It does no I/O, keeps no clock and starts no
// goroutine. A Step that would break the protocol's bookkeeping (a fill
// the legs cannot absorb, an answer nobody asked for) returns an error
// wrapping ErrInvariant: the caller stops; the ledgers must never carry on
// diverged.
//
// A Machine between Steps, its effects handed out (Ready), is snapshotted
// whole (AppendSnapshot, DecodeSnapshot: snapshot.go has the format); the
// copy goes on exactly as the original.
//
// The package also holds the protocol's pure rules used outside a
// Machine: the coverage a leg needs from a book (Need), the fund's total
// (Coverage), and the ranked view of a leg's remainder (RankedCost).
package liq
