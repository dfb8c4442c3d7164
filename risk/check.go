package risk

import (
	"errors"
	"fmt"
	"math"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// ErrInvariant is wrapped by every error Check returns.
var ErrInvariant = errors.New("risk: account invariant broken")

// lotsBound is the most lots of sym whose value at 2×MaxPrice (the highest
// price an ADL close may use) fits in int64. A position or a side's open
// orders stay far below it; it is not MaxQty, which old orders can exceed
// once an ADL close or a takeover moved the position they were checked
// against.
func lotsBound(sym *market.Symbol) book.Lots {
	return book.Lots(math.MaxInt64 / int64(sym.MaxLotValue()))
}

// Check verifies the account's invariants, for tests and for decoded
// snapshots: every field within what the operations can produce, each
// symbol's open-order totals, count and reservation equal to what its open
// orders require, the account's order margin and position counts, the
// cached liquidation and bankruptcy ticks fresh where the mark trigger
// relies on them and equal to a recomputation wherever fresh, and a flat
// account's cash not below zero. It changes nothing.
func (a *Account) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: account %d: %s", ErrInvariant, a.id, fmt.Sprintf(format, args...))
	}
	if a.mode != Cross && a.mode != Isolated {
		return bad("default margin mode %d", a.mode)
	}
	if len(a.pos) > MaxSymbols {
		return bad("%d symbols, at most %d", len(a.pos), MaxSymbols)
	}
	for i := range a.pos {
		if err := a.checkSlot(i); err != nil {
			return bad("%v", err)
		}
	}
	var sides [MaxSymbols][2]sideOrders
	var counts [MaxSymbols]int
	for j, o := range a.orders.Values() {
		if a.orders.ID(j) != o.id || a.orders.Find(o.id) != j {
			return bad("order %d misfiled in the order set", o.id)
		}
		if o.slot < 0 || int(o.slot) >= len(a.pos) {
			return bad("order %d in slot %d of %d", o.id, o.slot, len(a.pos))
		}
		sym := a.pos[o.slot].sym
		switch {
		case o.side != book.Buy && o.side != book.Sell:
			return bad("order %d side %d", o.id, o.side)
		case o.qty < 1 || o.qty > sym.MaxQty:
			return bad("order %d qty %d outside [1, %d]", o.id, o.qty, sym.MaxQty)
		case o.price < 1 || o.price > sym.MaxPrice:
			return bad("order %d price %d outside [1, %d]", o.id, o.price, sym.MaxPrice)
		case o.loss < 0 || o.loss > 0 && a.pos[o.slot].mode != Cross || o.loss > maxLoss(sym, o.qty):
			return bad("order %d open loss %d in a %v position", o.id, o.loss, a.pos[o.slot].mode)
		}
		so := &sides[o.slot][sideIdx(o.side)]
		if so.qty > lotsBound(sym)-o.qty {
			return bad("%s %s orders above %d lots", sym.Name, o.side, lotsBound(sym))
		}
		so.qty += o.qty
		so.notional += sym.Notional(o.price, o.qty)
		so.loss += o.loss
		if o.reduceOnly && !o.canceling {
			so.roQty += o.qty
		}
		counts[o.slot]++
	}
	var om, iso market.Money
	nOpen, nCross, crossSlot := 0, 0, -1
	for i := range a.pos {
		p := &a.pos[i]
		switch {
		case p.side != sides[i]:
			return bad("%s order totals %+v, its orders %+v", p.sym.Name, p.side, sides[i])
		case p.orders != counts[i]:
			return bad("%s counts %d orders, holds %d", p.sym.Name, p.orders, counts[i])
		case p.orderMargin != a.requiredOrderMargin(i, nil, 0):
			return bad("%s reserves %v, its orders require %v", p.sym.Name, p.orderMargin, a.requiredOrderMargin(i, nil, 0))
		}
		om += p.orderMargin
		if p.mode == Isolated {
			iso += p.orderMargin
		}
		if p.qty != 0 {
			nOpen++
			if p.mode == Cross {
				nCross++
				crossSlot = i
			}
		}
	}
	switch {
	case a.orderMargin != om:
		return bad("order margin %v, the symbols reserve %v", a.orderMargin, om)
	case a.isoOrderMargin != iso:
		return bad("isolated order margin %v, the isolated symbols reserve %v", a.isoOrderMargin, iso)
	case a.nOpen != nOpen || a.nCross != nCross || a.crossSlot != crossSlot:
		return bad("counts %d open, %d cross (slot %d); positions %d, %d (slot %d)", a.nOpen, a.nCross, a.crossSlot, nOpen, nCross, crossSlot)
	case nOpen == 0 && a.cash < 0:
		return bad("flat with cash %v", a.cash)
	}
	for i := range a.pos {
		p := &a.pos[i]
		if (p.mode == Isolated || a.nCross == 1) && p.qty != 0 && !p.fresh {
			return bad("%s: stale liquidation tick the mark trigger relies on", p.sym.Name)
		}
		if !p.fresh {
			continue
		}
		wl, wb := a.backing(i)
		if liq, bk := p.solveLiq(wl), p.solveBk(wb); p.liq != liq || p.bk != bk {
			return bad("%s: cached ticks %d/%d, recomputed %d/%d", p.sym.Name, p.liq, p.bk, liq, bk)
		}
	}
	return nil
}

// checkSlot checks slot i's own fields.
func (a *Account) checkSlot(i int) error {
	p := &a.pos[i]
	sym := p.sym
	if sym == nil {
		return fmt.Errorf("slot %d has no symbol", i)
	}
	if a.find(sym) != i {
		return fmt.Errorf("%s in two slots", sym.Name)
	}
	lim := lotsBound(sym)
	switch {
	case p.mode != Cross && p.mode != Isolated:
		return fmt.Errorf("%s margin mode %d", sym.Name, p.mode)
	case p.lev < 1 || p.lev > sym.MaxLeverage:
		return fmt.Errorf("%s leverage %d outside [1, %d]", sym.Name, p.lev, sym.MaxLeverage)
	case p.qty < -lim || p.qty > lim:
		return fmt.Errorf("%s position %d beyond %d lots", sym.Name, p.qty, lim)
	case p.mark < 0 || p.mark > sym.MaxPrice:
		return fmt.Errorf("%s mark %d outside [0, %d]", sym.Name, p.mark, sym.MaxPrice)
	case p.mode == Cross && p.margin != 0:
		return fmt.Errorf("%s cross with isolated margin %v", sym.Name, p.margin)
	case p.qty == 0 && (p.cost != 0 || p.margin != 0 || p.fresh):
		return fmt.Errorf("%s flat with cost %v, margin %v, fresh %v", sym.Name, p.cost, p.margin, p.fresh)
	case p.qty != 0 && p.mark < 1:
		return fmt.Errorf("%s position %d without a mark", sym.Name, p.qty)
	}
	// The cost basis is a sum of fills at prices in [1, MaxPrice] (partial
	// closes round the removed share toward zero, which keeps it in range).
	lo, hi := sym.Value(1, p.qty), sym.Value(sym.MaxPrice, p.qty)
	if lo > hi { // a short's linear value, or an inverse long's
		lo, hi = hi, lo
	}
	if p.cost < lo || p.cost > hi {
		return fmt.Errorf("%s cost %v of %d lots outside [%v, %v]", sym.Name, p.cost, p.qty, lo, hi)
	}
	return nil
}
