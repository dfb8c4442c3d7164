package actors

import (
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/adl"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/liq"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// Socialized loss (market.ADLSocialized; the rules are liq's): the ADL
// actor sets the winners' profit aside and spreads a shortfall over them;
// each winner pays its share from its profit and keeps its position.

// socialize (ADL actor) sets the winners' profit aside for a liquidation
// (adl.Ranking.SetAside), releases it, or spreads a shortfall over the
// winners (adl.Ranking.Socialize) and sends the charges and the plan.
func (a *adlActor) socialize(ctx actor.Context, m *socializeMsg) {
	rk := a.ranks[m.sym]
	if m.unable != 0 {
		rk.Unable(m.side, m.unable, m.closed, m.unpaid)
		return
	}
	if m.refund > 0 {
		a.refund(ctx, rk, m)
		return
	}
	if m.quote {
		avail, err := rk.SetAside(m.side)
		if err != nil {
			avail = 0 // no mark yet: nothing can be charged
		}
		ctx.Send(m.pid, &socialMsg{kind: socialCap, sym: m.sym, amount: avail})
		return
	}
	rk.ReleaseAside(m.side, m.release)
	if m.abandon {
		return
	}
	res, err := rk.SocializeAt(m.side, m.deficit, 0, a.charges[:0])
	if err != nil && !errors.Is(err, adl.ErrNoMark) { // no mark yet: nobody can be charged
		panic(fmt.Sprintf("actors: socialized loss of %d on %s refused: %v", m.deficit, a.x.symbols[m.sym].sym.Name, err))
	}
	n := 0
	for _, c := range res.Charges {
		if c.Amount <= 0 || a.refs[c.Account] == nil {
			continue
		}
		n++
		ctx.Send(a.refs[c.Account].pid, &socialMsg{kind: socialCharge, sym: m.sym, amount: c.Amount, mark: res.Mark, bankrupt: m.pid, name: m.name,
			closed: c.Closed, side: m.side, winner: c.Account, qty: heldBy(rk, c.Account, m.side)})
	}
	rk.Charged(m.side, res.Charges)
	a.charges = res.Charges[:0]
	ctx.Send(m.pid, &socialMsg{kind: socialPlan, sym: m.sym, n: n, amount: res.Uncovered})
}

// refund passes a liquidation's refund of a winner's escrow on to the
// winner, after taking it off what rounds charged the winner's position,
// scaled to the lots the ranking still holds of those it paid with
// (liq.Refund.Uncharged).
func (a *adlActor) refund(ctx actor.Context, rk *adl.Ranking, m *socializeMsg) {
	r := liq.Refund{Amount: m.refund, Qty: m.qty, Closed: m.closed}
	rk.Refunded(m.side, m.winner, r.Uncharged(heldBy(rk, m.winner, m.side)))
	ref := a.refs[m.winner]
	if ref == nil { // it paid, so it reported a position
		panic(fmt.Sprintf("actors: a refund of %d to account %d, which the ranking never saw", m.refund, m.winner))
	}
	ctx.Send(ref.pid, &socialMsg{kind: socialRefund, sym: m.sym, amount: m.refund, name: m.name})
}

// heldBy is the lots acct holds opposite bankrupt side in the ranking.
func heldBy(rk *adl.Ranking, acct book.AccountID, side book.Side) book.Lots {
	if info, ok := rk.Position(acct); ok && info.Side == side.Opposite() {
		return info.Qty
	}
	return 0
}

// onSocial handles the socialized-loss messages of an account actor.
func (a *accountActor) onSocial(ctx actor.Context, m *socialMsg) {
	switch m.kind {
	case socialCharge:
		a.onCharge(ctx, m)
	case socialCap:
		a.step(ctx, liq.SocialCap{Leg: a.adlLeg(m.sym, "socialized-loss set-aside"), Amount: m.amount})
	case socialPlan:
		a.step(ctx, liq.SocialPlan{Leg: a.adlLeg(m.sym, "socialized-loss plan"), N: m.n, Uncovered: m.amount})
	case socialCharged:
		a.step(ctx, liq.SocialCharged{Leg: a.adlLeg(m.sym, "socialized-loss charge"), Paid: m.amount, Asked: m.asked,
			Account: m.winner, Qty: m.qty, Closed: m.closed})
	case socialRefund:
		a.onRefund(ctx, m)
	case adlAdjust:
		a.onAdjust(ctx, m)
	case adlAdjusted:
		a.step(ctx, liq.CloseAdjusted{Leg: a.adlLeg(m.sym, "ADL close adjustment"), Amount: m.amount, Asked: m.asked})
	}
}

// onAdjust books a price adjustment of this account's ADL close of a
// bankrupt leg whose funding the close missed (liq.AdjustClose,
// risk.Account.AdjustADLClose: a payment at most what backs the account)
// and answers the bankrupt account with what moved.
func (a *accountActor) onAdjust(ctx actor.Context, m *socialMsg) {
	h := a.x.symbols[m.sym]
	res, code := a.risk(h).AdjustADLClose(h.sym, m.amount)
	switch {
	case code == risk.ChargeExceedsProfit: // nothing to pay it from
	case code != risk.OK:
		panic(fmt.Sprintf("actors: %s refused an ADL close adjustment of %d from %s: %s", a.e.name, m.amount, m.name, code))
	}
	ctx.Send(m.bankrupt, &socialMsg{kind: adlAdjusted, sym: m.sym, amount: res.Realized, asked: m.amount, name: a.e.name})
	a.answered = m
	if res.Realized == 0 {
		return
	}
	a.keepIncome(h, 0, incomeADLPnL, res.Realized, 0, a.x.clock(&a.j))
	a.cancelPastCloses(ctx, h.asset)
	a.afterBackingChange(ctx, h.asset)
	failAt(a, FailAdjustAnswered)
	// An "adl" event with qty 0, like a charge: the amount is in realized PnL.
	a.adlEvent(h, m.name, a.e.name, 0, 0, 0, res.Realized)
	if res.Liquidate {
		a.liquidateAny(ctx)
	}
}

// onRefund credits a winner the part of its escrow a liquidation did not
// need (risk.Account.RefundSocializedCharge).
func (a *accountActor) onRefund(ctx actor.Context, m *socialMsg) {
	h := a.x.symbols[m.sym]
	res, code := a.risk(h).RefundSocializedCharge(h.sym, m.amount)
	if code != risk.OK {
		panic(fmt.Sprintf("actors: %s refused a socialized-loss refund of %d from %s: %s", a.e.name, m.amount, m.name, code))
	}
	a.keepIncome(h, 0, incomeSocialized, res.Realized, 0, a.x.clock(&a.j))
	a.positionChanged(ctx, h)
	a.adlEvent(h, m.name, a.e.name, 0, 0, 0, res.Realized)
}

// unable tells the ranking that the winner paid only paid of charge m,
// before the answer: the bankrupt account's next round, which the answer
// may start, finds the ranking told (adl.Ranking.Unable).
func (a *accountActor) unable(ctx actor.Context, m *socialMsg, paid market.Money) {
	if paid < m.amount {
		ctx.Send(a.x.adl, &socializeMsg{unable: a.e.id, closed: m.closed, unpaid: m.amount - paid, sym: m.sym, side: m.side})
	}
}

// onCharge debits a winner's share (risk.Account.ApplySocializedCharge, or
// ApplyClosedCharge from cash for profit it took out since the set-aside)
// and answers the bankrupt account with what it paid: 0 when its position
// is gone or its profit no longer covers the charge (the bankrupt account
// spreads that part again, see social.unpaid).
func (a *accountActor) onCharge(ctx actor.Context, m *socialMsg) {
	h := a.x.symbols[m.sym]
	var res risk.FillResult
	var code risk.Code
	if m.closed {
		res, code = a.risk(h).ApplyClosedCharge(h.sym, m.amount)
	} else {
		res, code = a.risk(h).ApplySocializedCharge(h.sym, m.amount, m.mark)
	}
	paid := -res.Realized // all, part (above its maintenance margin) or nothing
	if code != risk.OK {
		a.x.log.Debug("actors: socialized charge refused", "account", a.e.name, "code", code.String())
		paid = 0
	}
	a.unable(ctx, m, paid)
	ctx.Send(m.bankrupt, &socialMsg{kind: socialCharged, sym: m.sym, amount: paid, asked: m.amount, name: a.e.name,
		winner: m.winner, qty: m.qty, closed: m.closed})
	a.answered = m
	if paid == 0 {
		return
	}
	a.keepIncome(h, 0, incomeSocialized, res.Realized, 0, a.x.clock(&a.j))
	a.cancelPastCloses(ctx, h.asset)
	a.positionChanged(ctx, h)
	failAt(a, FailChargeAnswered)
	// An "adl" event with qty 0: the position is kept; price is the mark
	// the charge was computed at, the amount is in realized PnL.
	a.adlEvent(h, m.name, a.e.name, 0, 0, m.mark, res.Realized)
	if res.Liquidate {
		a.liquidate(ctx, h)
	}
}
