package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
)

// partialLiq is an account's partial liquidation in flight: the reduce
// order risk planned (risk.StartPartialLiquidation), sent to the book as
// the account's own IOC order bounded by the bankruptcy price. Its result
// ends it; if the account is still under maintenance then, the full
// takeover follows.
type partialLiq struct {
	o *order
	h *symbolHandle
}

// partialLiquidate starts a partial liquidation of h's position when risk
// plans one; false leaves the full takeover to the caller.
func (a *accountActor) partialLiquidate(ctx actor.Context, h *symbolHandle) bool {
	if !h.sym.PartialLiquidation {
		return false
	}
	id := book.OrderID(a.x.newID(&a.j))
	plan, ok := a.risk(h).StartPartialLiquidation(h.sym, id)
	if !ok {
		return false
	}
	// Every order the position's backing stands behind goes first: cross,
	// all of its wallet's; isolated, the symbol's.
	pos, _ := a.risk(h).Position(h.sym)
	var ids []book.OrderID
	for _, o := range a.orders.Values() {
		if pos.Mode == risk.Cross && o.h.asset == h.asset || o.h == h {
			ids = append(ids, o.id)
		}
	}
	a.cancelIDs(ctx, ids, nil)
	o := a.newOrder()
	*o = order{id: id, h: h, side: plan.Side, typ: book.Market, tif: book.IOC, qty: plan.Qty, status: wire.StatusNew,
		reduceOnly: true, createdMs: a.x.clock(&a.j), wid: a.idString(id), wqty: h.qty(plan.Qty)}
	a.partial = &partialLiq{o: o, h: h}
	s := h.sym
	liq, _ := a.risk(h).LiquidationPrice(s)
	if a.x.events { // also the public liquidations stream, as in takeOver
		a.emit(&wire.AccountEvent{Type: wire.EventLiquidation, Liquidation: &wire.Liquidation{
			Symbol: s.Name, Side: posSide(pos.Qty), Qty: h.qty(plan.Qty), MarkPrice: h.price(pos.Mark),
			LiquidationPrice: h.price(liq), BankruptcyPrice: h.price(plan.Bound), Kind: wire.LiquidationPartial,
		}})
	}
	ctx.Send(h.pid, &placeMsg{order: book.Order{ID: id, Account: a.e.id, Side: plan.Side, Type: book.Market, TIF: book.IOC,
		Price: plan.Bound, Qty: plan.Qty, ReduceOnly: true, STP: book.STPCancelMaker}, from: ctx.Self()})
	if f := failTest.Load(); f != nil && f.at == FailPartial {
		panic("test: the account panics in its partial liquidation (FailOrderForTest)")
	}
	return true
}

// onPartialResult books the reduce order's fills and ends the partial
// liquidation; the full takeover follows when it was not enough.
func (a *accountActor) onPartialResult(ctx actor.Context, m *takerResultMsg) {
	p := a.partial
	o, h := p.o, p.h
	for i := range m.fills {
		f := &m.fills[i]
		a.applyFill(ctx, h, o, f.Price, f.Qty, false, h.sym.TakerFee, m.tradeSeq+uint64(i), m.ms)
	}
	a.risk(h).OnOrderDone(o.id) // its unfilled rest, if any
	a.canceled(m.canceled)
	st := wireStatus(m.status)
	if m.code != book.OK || m.err != nil {
		st = wire.StatusRejected
	}
	a.setStatus(o, st)
	if a.wantEvents() {
		a.emit(&wire.AccountEvent{Type: wire.EventOrder, Order: a.snapshot(o)})
	}
	a.partial = nil
	a.release(o)
	a.positionChanged(ctx, h)
	if !a.risk(h).EndPartialLiquidation(h.sym) || a.liq != nil {
		return
	}
	if p, ok := a.risk(h).Position(h.sym); ok && p.Qty != 0 && a.risk(h).OnMark(h.sym, max(a.markOf(h, p), 1)) {
		a.takeOver(ctx, h) // the reduction was not enough
		return
	}
	for _, o := range a.x.symbols { // another position crossed meanwhile (its marks waited)
		if p, ok := a.risk(o).Position(o.sym); ok && p.Qty != 0 && a.risk(o).OnMark(o.sym, max(a.markOf(o, p), 1)) {
			a.liquidate(ctx, o)
			return
		}
	}
}
