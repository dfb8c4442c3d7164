package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
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
	var past *order
	if m.delta > 0 { // out of the cash: every close of the wallet may be past
		code = a.risk(h).AddMarginChecked(h.sym, m.delta, func() bool { past = a.closingPast(h.asset, nil); return past == nil })
	} else {
		code = a.risk(h).RemoveMarginChecked(h.sym, -m.delta, func() bool { past = a.closingPast(h.asset, h); return past == nil })
	}
	switch code {
	case risk.OK:
	case risk.NoPosition:
		m.refuse(wire.Errorf(wire.CodeNoIsolatedPosition, "no isolated position in %s", h.sym.Name))
		return
	case risk.BeyondBankruptcy:
		what := "taking that margin out"
		if m.delta > 0 {
			what = "adding that margin"
		}
		m.refuse(closingPastError(past, what))
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
	a.afterBackingChange(ctx, h.asset) // the cash behind the cross positions moved too
	m.done(wire.PositionMarginReply{Reply: wire.OK(), Symbol: h.sym.Name, Margin: pos.Margin.Decimal(), Available: a.risk(h).Available().Decimal()})
}

// withdraw takes money out: at most what is available (equity above the
// margin in use), never while a liquidation runs. The audit's deposits are
// net of it.
func (a *accountActor) withdraw(ctx actor.Context, m *withdrawReq) {
	w := &a.wallets[m.asset]
	var past *order
	switch code := w.acct.WithdrawChecked(m.amount, func() bool { past = a.closingPast(m.asset, nil); return past == nil }); code {
	case risk.OK:
	case risk.BeyondBankruptcy:
		m.refuse(closingPastError(past, "that withdrawal"))
		return
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

// closingPast returns an order that closes a position of wallet asset (in
// h only, when h is set: an isolated margin backs only its position; the
// wallet's cash backs the cross positions and pays every close's fee) and
// could now fill past the position's bankruptcy price
// (risk.Account.PastCloseBound): a limit order priced past it (or whose
// amend on its way is), or a market close whose protection bound is (the
// bankruptcy price of when it was sent, at the latest). A withdrawal or a
// margin removal that would leave one is undone and refused (risk's WithdrawChecked,
// RemoveMarginChecked): the fill would lose more than what backs the
// position, and the fund would pay the counterparty for it (API.md, the
// bankruptcy bound). One whose bound's cancel is on its way counts: the
// book may fill it before the cancel reaches it (DESIGN.md), and the money
// moved out would be the fund's loss; another is returned first, as the
// trader must cancel that one (pastCloseAdvice).
func (a *accountActor) closingPast(asset int, h *symbolHandle) *order {
	var canceling *order
	for _, o := range a.orders.Values() {
		if o.h.asset != asset || h != nil && o.h != h || o.cond != nil && !o.cond.fired {
			continue
		}
		acct := a.risk(o.h)
		if !o.closes(acct) {
			continue
		}
		// The book may fill a market order down (a buy: up) to its bound.
		price := o.extreme()
		if o.typ == book.Market {
			price = o.bound
		}
		if price == 0 || acct.PastCloseBound(o.h.sym, price) {
			if !o.pastBound {
				return o
			}
			if canceling == nil {
				canceling = o
			}
		}
	}
	return canceling
}

// pastCloseAdvice is what a refusal for closingPast's o asks first: the
// trader's cancel, or, when the bound's own cancel is on its way
// (order.pastBound), its answer: cancel that order first would be no help.
func pastCloseAdvice(o *order) string {
	if o.pastBound {
		return "the exchange is canceling that order (canceled_by_bankruptcy): try again once it is canceled"
	}
	return "cancel that order first"
}

// isolatedOpenError is the refusal for risk code c of an order or a
// leverage (what moves the cash, what to do instead); past is the close
// closingPast found when c is risk.IsolatedOpenPastClose.
func isolatedOpenError(c risk.Code, past *order, what, instead string) *wire.Error {
	if c != risk.IsolatedOpenPastClose || past == nil {
		return riskError(c)
	}
	return wire.Errorf(wire.CodeInsufficientMargin, "%s, out of the balance once it fills, would leave order %s closing the %s position past its bankruptcy price, a loss its margin cannot pay: %s, or %s",
		what, past.wid, past.h.sym.Name, pastCloseAdvice(past), instead)
}

// An order's isolatedOpenError.
const isoOpenWhat, isoOpenInstead = "the isolated order's margin and fee", "open less"

// closingPastError is closingPast's refusal of what.
func closingPastError(o *order, what string) *wire.Error {
	return wire.Errorf(wire.CodeInsufficientMargin, "%s would leave order %s closing the %s position past its bankruptcy price, a loss its margin cannot pay: %s, or take out less",
		what, o.wid, o.h.sym.Name, pastCloseAdvice(o))
}
