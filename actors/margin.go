package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
)

// The account's margin requests: a symbol's margin mode, an isolated
// position's margin, withdrawals. Risk decides; the actor checks what only
// it knows (conditional orders, which risk never sees) and reports.

// setMarginMode changes m.h's margin mode for this account while it holds
// no position and no order there (a conditional one included).
func (a *accountActor) setMarginMode(m *marginModeReq) {
	h := m.h
	mode, name := risk.Cross, wire.MarginCross
	if m.isolated {
		mode, name = risk.Isolated, wire.MarginIsolated
	}
	if a.risk(h).InLiquidation() {
		m.refuse(riskError(risk.AccountInLiquidation))
		return
	}
	current := risk.Cross // a symbol the account never used starts in the exchange's mode
	if a.x.mode == risk.Isolated {
		current = risk.Isolated
	}
	if pos, ok := a.risk(h).Position(h.sym); ok {
		current = pos.Mode
	}
	if current == mode {
		m.done(wire.MarginModeReply{Reply: wire.OK(), Symbol: h.sym.Name, Mode: name}) // already so: nothing to change
		return
	}
	if pos, ok := a.risk(h).Position(h.sym); ok && pos.Qty != 0 {
		m.refuse(wire.Errorf(wire.CodePositionOpen, "the margin mode of %s cannot change while a position is open there", h.sym.Name))
		return
	}
	for _, o := range a.orders.Values() {
		if o.h == h {
			m.refuse(wire.Errorf(wire.CodeOpenOrders, "the margin mode of %s cannot change while orders are open there", h.sym.Name))
			return
		}
	}
	switch code := a.risk(h).SetMarginMode(h.sym, mode); code {
	case risk.OK:
		m.done(wire.MarginModeReply{Reply: wire.OK(), Symbol: h.sym.Name, Mode: name, Changed: true})
	case risk.PositionOpen: // orders risk knows of that the account has let go: never
		m.refuse(wire.Errorf(wire.CodeOpenOrders, "the margin mode of %s cannot change while orders are open there", h.sym.Name))
	default:
		m.refuse(riskError(code))
	}
}

// movePositionMargin moves margin into (delta > 0) or out of an isolated
// position; its liquidation price and its ADL ranking move with it.
func (a *accountActor) movePositionMargin(ctx actor.Context, m *positionMarginReq) {
	h := m.h
	var code risk.Code
	if m.delta > 0 {
		code = a.risk(h).AddMargin(h.sym, m.delta)
	} else {
		code = a.risk(h).RemoveMargin(h.sym, -m.delta)
	}
	switch code {
	case risk.OK:
	case risk.NoPosition:
		m.refuse(wire.Errorf(wire.CodeNoIsolatedPosition, "no isolated position in %s", h.sym.Name))
		return
	case risk.InsufficientMargin:
		if m.delta > 0 {
			m.refuse(wire.Errorf(wire.CodeInsufficientMargin, "%s is more than the available balance", m.delta.Decimal()))
		} else {
			m.refuse(wire.Errorf(wire.CodeInsufficientMargin, "taking %s out would leave the position below its initial margin", (-m.delta).Decimal()))
		}
		return
	default:
		m.refuse(riskError(code))
		return
	}
	pos, _ := a.risk(h).Position(h.sym)
	a.positionChanged(ctx, h)
	m.done(wire.PositionMarginReply{Reply: wire.OK(), Symbol: h.sym.Name, Margin: pos.Margin.Decimal(), Available: a.risk(h).Available().Decimal()})
}

// withdraw takes money out: at most what is available (equity above the
// margin in use), never while a liquidation runs. The audit's deposits are
// net of it.
func (a *accountActor) withdraw(ctx actor.Context, m *withdrawReq) {
	w := &a.wallets[m.asset]
	switch code := w.acct.Withdraw(m.amount); code {
	case risk.OK:
	case risk.InsufficientMargin:
		m.refuse(wire.Errorf(wire.CodeInsufficientMargin, "%s is more than the available %s", m.amount.Decimal(), w.acct.Available().Decimal()))
		return
	default:
		m.refuse(riskError(code))
		return
	}
	w.deposits -= m.amount
	a.keepIncome(nil, m.asset, incomeWithdrawal, -m.amount, 0, a.x.clock(&a.j))
	a.afterBackingChange(ctx, m.asset)
	m.done(wire.BalanceReply{Reply: wire.OK(), Balance: w.acct.Balance().Decimal()})
}
