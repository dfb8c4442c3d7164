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

// social is a socialized leg's socialization round.
type social struct {
	// quoted: the ADL actor set capacity (the winners' profit opposite
	// the leg) aside for it; it is released by the leg's socializeMsg at
	// settlement.
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

// socialized reports whether a leg is on a socialized-loss symbol.
func (leg *liqLeg) socialized() bool { return leg.h.sym.ADL == market.ADLSocialized }

// charged is what the winners of every socialized leg paid.
func (lq *liquidation) charged() market.Money {
	var sum market.Money
	for _, g := range lq.legs {
		sum += g.social.charged
	}
	return sum
}

// socialized reports whether the liquidation may settle: true when no
// socialization is needed or every socialized leg's round is complete;
// otherwise it starts the rounds (once) and returns false. fund is the
// settlement's share.
func (a *accountActor) socialized(ctx actor.Context, fund market.Money) bool {
	lq := a.liq
	var quoted, started bool
	for _, g := range lq.legs {
		quoted = quoted || g.social.quoted
		started = started || g.social.asked // every quoted leg is asked at once
	}
	if !started {
		if !quoted {
			return true
		}
		shorts := lq.splitShortfall(max(0, -fund-lq.amount))
		for i, g := range lq.legs {
			sc := &g.social
			if !sc.quoted {
				continue
			}
			sc.asked, sc.rounds = true, 1
			ctx.Send(a.x.adl, &socializeMsg{sym: g.h.idx, side: sideOf(g.g.Qty), deficit: shorts[i], release: sc.capacity, pid: a.e.pid, name: a.e.name})
		}
		return false
	}
	done := true
	for _, g := range lq.legs {
		if g.social.asked && !a.socialRound(ctx, g) {
			done = false
		}
	}
	return done
}

// socialRound reports whether a leg's socialization is complete, starting
// another round over what its winners could not pay when one is due.
func (a *accountActor) socialRound(ctx actor.Context, leg *liqLeg) bool {
	sc := &leg.social
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

// splitShortfall splits the shortfall beyond the reservation over the
// quoted socialized legs in proportion to each leg's loss beyond its share
// of the reservation (by their capacities when none lost beyond its
// share), each capped by its leg's capacity; what the caps leave falls on
// the fund. The split is exact before the caps (cumulative rounding).
func (lq *liquidation) splitShortfall(short market.Money) []market.Money {
	out := make([]market.Money, len(lq.legs))
	if short <= 0 {
		return out
	}
	w := make([]market.Money, len(lq.legs))
	var total market.Money
	for i, g := range lq.legs {
		if g.social.quoted {
			w[i] = max(0, -g.g.Gain-g.share)
			total += w[i]
		}
	}
	if total == 0 {
		for i, g := range lq.legs {
			if g.social.quoted {
				w[i] = g.social.capacity
				total += w[i]
			}
		}
	}
	if total == 0 {
		return out
	}
	var cum, prev market.Money
	for i := range lq.legs {
		if w[i] == 0 {
			continue
		}
		cum += w[i]
		upto := market.Money(market.MustMulDiv(int64(short), int64(cum), int64(total), false))
		out[i] = min(upto-prev, lq.legs[i].social.capacity)
		prev = upto
	}
	return out
}

// quoteSocial asks the ADL actor to set aside, for every socialized leg
// still open, the profit of the winners opposite it; false when there is
// nothing to ask.
func (a *accountActor) quoteSocial(ctx actor.Context) bool {
	lq := a.liq
	for _, leg := range lq.legs {
		if !leg.socialized() || leg.g.Remaining == 0 {
			continue
		}
		lq.quotes++
		ctx.Send(a.x.adl, &socializeMsg{quote: true, sym: leg.h.idx, side: sideOf(leg.g.Qty), pid: a.e.pid, name: a.e.name})
	}
	return lq.quotes > 0
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
		leg := a.adlLeg(m.sym)
		if leg == nil || leg.social.quoted || a.liq.quotes == 0 {
			return
		}
		leg.social.quoted, leg.social.capacity = true, m.amount
		if a.liq.quotes--; a.liq.quotes == 0 {
			a.sendOrders(ctx)
		}
	case socialPlan, socialCharged:
		leg := a.adlLeg(m.sym)
		if leg == nil || !leg.social.asked {
			a.x.log.Error("actors: socialized loss answer for no liquidation", "account", a.e.name)
			return
		}
		sc := &leg.social
		if m.kind == socialPlan {
			sc.planned = true
			sc.pending += m.n
		} else {
			sc.pending--
			sc.charged += m.amount
			sc.roundPaid += m.amount
			sc.unpaid += m.asked - m.amount
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
