package actors

import (
	"math"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
)

// Socialized loss (market.ADLSocialized; see doc.go): a liquidation whose
// deficit exceeds what the fund reserved for it asks the ADL actor to
// spread the shortfall over the profitable opposite positions; each winner
// pays its share from its profit and keeps its position; the bankrupt
// account settles with the fund for the deficit less what the winners paid.

// social is a liquidation's socialization round.
type social struct {
	// quoted: the ADL actor set capacity (the winners' profit) aside for
	// this liquidation; it is released by the socializeMsg at settlement.
	quoted         bool
	capacity       market.Money
	asked, planned bool
	pending        int          // charges not answered yet
	charged        market.Money // what the winners paid
	// A winner may no longer hold the profit it was charged against (it
	// closed or lost it since the ranking saw it): what it could not pay
	// is spread again over the winners as they are now, for up to
	// maxSocialRounds rounds while a round still collects something.
	unpaid, roundPaid market.Money
	rounds            int
}

// maxSocialRounds bounds the re-spreading of unpaid charges; what is still
// unpaid after it falls to the fund.
const maxSocialRounds = 4

// socialLeg is the liquidation's first leg on a socialized-loss symbol, nil
// when it has none.
func (lq *liquidation) socialLeg() *liqLeg {
	for _, g := range lq.legs {
		if g.h.sym.ADL == market.ADLSocialized {
			return g
		}
	}
	return nil
}

// socialized reports whether the liquidation may settle: true when no
// socialization is needed or its round is complete; otherwise it starts
// the round (once) and returns false. fund is the settlement's share.
func (a *accountActor) socialized(ctx actor.Context, fund market.Money) bool {
	lq := a.liq
	sc := &lq.social
	leg := lq.socialLeg()
	if sc.asked {
		if !sc.planned || sc.pending > 0 {
			return false
		}
		if sc.unpaid == 0 || sc.roundPaid == 0 || sc.rounds >= maxSocialRounds {
			return true
		}
		short := sc.unpaid
		sc.unpaid, sc.roundPaid, sc.planned = 0, 0, false
		sc.rounds++
		ctx.Send(a.x.adl, &socializeMsg{sym: leg.h.idx, side: sideOf(leg.g.Qty), deficit: short, pid: a.e.pid, name: a.e.name})
		return false
	}
	if leg == nil || !sc.quoted {
		return true
	}
	short := max(0, min(-fund-lq.amount, sc.capacity))
	sc.asked, sc.rounds = true, 1
	ctx.Send(a.x.adl, &socializeMsg{sym: leg.h.idx, side: sideOf(leg.g.Qty), deficit: short, release: sc.capacity, pid: a.e.pid, name: a.e.name})
	return false
}

// quoteSocial asks the ADL actor to set aside the profit of the winners
// opposite the liquidation's socialized leg, if it has one; false when
// there is nothing to ask.
func (a *accountActor) quoteSocial(ctx actor.Context) bool {
	leg := a.liq.socialLeg()
	if leg == nil || leg.g.Remaining == 0 {
		return false
	}
	ctx.Send(a.x.adl, &socializeMsg{quote: true, sym: leg.h.idx, side: sideOf(leg.g.Qty), pid: a.e.pid, name: a.e.name})
	return true
}

// socialize (ADL actor) splits the deficit with adl.Ranking.Socialize and
// sends the charges and the plan.
func (a *adlActor) socialize(ctx actor.Context, m *socializeMsg) {
	rk := a.ranks[m.sym]
	k := adlKey{sym: m.sym, acct: book.AccountID(m.side)}
	if m.quote {
		// The winners' total profit, less what other liquidations in
		// flight set aside, is set aside for this one.
		res, err := rk.Socialize(m.side, math.MaxInt64, a.charges[:0])
		a.charges = res.Charges[:0]
		avail := max(0, res.Charged-a.earmarked[k])
		if err != nil {
			avail = 0
		}
		a.earmarked[k] += avail
		ctx.Send(m.pid, &socialMsg{kind: socialCap, sym: m.sym, amount: avail})
		return
	}
	if a.earmarked[k] -= m.release; a.earmarked[k] <= 0 {
		delete(a.earmarked, k)
	}
	if m.abandon {
		return
	}
	res, err := rk.Socialize(m.side, m.deficit, a.charges[:0])
	if err != nil {
		a.x.log.Error("actors: socialized loss refused", "account", m.name, "err", err)
	}
	n := 0
	for _, c := range res.Charges {
		if c.Amount <= 0 || a.refs[c.Account] == nil {
			continue
		}
		n++
		ctx.Send(a.refs[c.Account].pid, &socialMsg{kind: socialCharge, sym: m.sym, amount: c.Amount, mark: rk.Mark(), bankrupt: m.pid, name: m.name})
	}
	a.charges = res.Charges[:0]
	ctx.Send(m.pid, &socialMsg{kind: socialPlan, sym: m.sym, n: n})
}

// onSocial handles the socialized-loss messages of an account actor.
func (a *accountActor) onSocial(ctx actor.Context, m *socialMsg) {
	switch m.kind {
	case socialCharge:
		a.onCharge(ctx, m)
	case socialCap:
		lq := a.liq
		if lq == nil || lq.social.quoted {
			return
		}
		lq.social.quoted, lq.social.capacity = true, m.amount
		a.sendOrders(ctx)
	case socialPlan, socialCharged:
		lq := a.liq
		if lq == nil || !lq.social.asked {
			a.x.log.Error("actors: socialized loss answer for no liquidation", "account", a.e.name)
			return
		}
		if m.kind == socialPlan {
			lq.social.planned = true
			lq.social.pending += m.n
		} else {
			lq.social.pending--
			lq.social.charged += m.amount
			lq.social.roundPaid += m.amount
			lq.social.unpaid += m.asked - m.amount
		}
		a.checkLiquidationDone(ctx)
	}
}

// onCharge debits a winner's share (risk.Account.ApplySocializedCharge) and
// answers the bankrupt account with what it paid: 0 when its position is
// gone or its profit no longer covers the charge (the bankrupt account
// spreads that part again, see social.unpaid).
func (a *accountActor) onCharge(ctx actor.Context, m *socialMsg) {
	h := a.x.symbols[m.sym]
	paid := m.amount
	res, code := a.acct.ApplySocializedCharge(h.sym, m.amount, m.mark)
	if code != risk.OK {
		a.x.log.Debug("actors: socialized charge refused", "account", a.e.name, "code", code.String())
		paid = 0
	}
	ctx.Send(m.bankrupt, &socialMsg{kind: socialCharged, sym: m.sym, amount: paid, asked: m.amount, name: a.e.name})
	if paid == 0 {
		return
	}
	a.positionChanged(ctx, h)
	if a.x.events {
		// An "adl" event with qty 0: the position is kept; price is the
		// mark the charge was computed at, the amount is in realized PnL.
		a.emit(&wire.AccountEvent{Type: wire.EventADL, ADL: &wire.ADLEvent{Symbol: h.sym.Name,
			BankruptAccount: m.name, Counterparty: a.e.name, Qty: h.sym.Qty(0),
			Price: h.sym.Price(m.mark), TimeMs: a.x.now()}})
	}
	if res.Liquidate {
		a.liquidate(ctx, h)
	}
}
