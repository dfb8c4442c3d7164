package actors

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// HeldFill is what fills of a failed account's own orders did in one
// symbol when they reached it after it failed (the book matched them
// before the pull: a maker fill ahead of the cancel, a taker's result).
// The counterparty booked its side; the failed account's risk state broke
// an invariant and must not trade, so its side is held beside that state,
// as a position the audit counts with it: the lots (open interest), their
// cost (Σ the fills' signed values, risk's cost basis: valued at the mark
// it is their PnL, a close's realized part included) and the fee
// they would pay at the symbol's rates. The fee is held too, not charged:
// nothing moves in or out of a frozen wallet (a maker rebate would be paid
// to it from the fees ledger), and conservation is exact either way since
// it moved nowhere. A restart holds them again: the failed account's
// answers are journaled and a snapshot keeps them (failrecord.go).
type HeldFill struct {
	Fills     int
	Buy, Sell book.Lots
	Cost      market.Money
	Fee       market.Money
}

func (f *HeldFill) add(g HeldFill) {
	f.Fills += g.Fills
	f.Buy += g.Buy
	f.Sell += g.Sell
	f.Cost += g.Cost
	f.Fee += g.Fee
}

// net is the held lots' signed position.
func (f *HeldFill) net() book.Lots { return f.Buy - f.Sell }

// hold keeps the failed account's side of fills (of its order on side, at
// rate) beside its frozen state, but for their first skip lots, which its
// handler booked before it panicked (accountActor.filling): booking them
// twice would make what the counterparty booked twice.
func (a *accountActor) hold(h *symbolHandle, side book.Side, fills []book.Fill, rate market.Rate, skip book.Lots) {
	for _, f := range fills {
		q := f.Qty - min(skip, f.Qty)
		skip -= f.Qty - q
		if q == 0 {
			continue
		}
		if a.held == nil {
			a.held = make([]HeldFill, len(a.x.symbols))
		}
		g := &a.held[h.idx]
		g.Fills++
		d := q
		if side == book.Buy {
			g.Buy += q
		} else {
			g.Sell += q
			d = -q
		}
		g.Cost += h.sym.Value(f.Price, d)
		g.Fee += risk.TradeFee(h.sym, f.Price, q, rate)
		a.x.log.Error("actors: a fill of an order of a failed account held for it", "account", a.e.name,
			"symbol", h.sym.Name, "order", f.MakerID, "taker", f.TakerID, "side", side, "qty", q, "price", f.Price)
	}
}

// bookedOf is how many lots of m's fills the handler that panicked on it
// booked (0 for a message that arrived after the failure); it forgets m.
func (a *accountActor) bookedOf(m any) book.Lots {
	if m != a.filling {
		return 0
	}
	a.filling = nil
	return a.booked
}
