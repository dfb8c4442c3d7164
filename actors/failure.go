package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/liq"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/trigger"
	"github.com/perpx/perpx/wire"
)

// A failed account (its actor panicked, see accountSupervisor) keeps its
// state frozen for the audit, but nothing it held may block or cost anyone
// else: its resting orders leave the books (nobody trades against an
// account that cannot settle), its positions leave the ADL ranking, the
// fund reservation and every leg's socialized-loss set-aside of a
// liquidation it was running are given back, and every forced close or
// charge other liquidations send it is answered "nothing done" so they go
// on without it (the one it panicked on: what it had done, once:
// answered, closing). Money never vanishes into it: what others already booked
// their side of is booked on its frozen state (its abandoned liquidation's
// IOC fills and ADL closes), a refund of a winner's escrow, its own
// money, is held for it (wallet.held), and so are fills of its own orders
// the book matched before the pull (HeldFill); the audit counts both. Its
// abandoned liquidation counts the answers still due down (plans, closes,
// charges, a retry's timer); once none is (liq.Machine.Quiet) a snapshot
// keeps it with the account (appendAbandoned).

// refuseAll is a failed account's whole behaviour: requests are answered
// INTERNAL, protocol messages of other accounts' liquidations are answered
// as above, money owed to it and fills of its own orders still in flight
// to it are held as above.
func (a *accountActor) refuseAll(ctx actor.Context) {
	switch m := failedMessage(ctx).(type) {
	case *failedMsg:
		a.abandon(ctx)
		if a.x.events {
			a.emit(&wire.AccountEvent{Type: wire.EventError, Error: wire.Errorf(wire.CodeInternal,
				"the account stopped after an internal error and answers INTERNAL from now on; its state is kept for the operators: %s", m.reason)})
		}
	case *canceledMsg: // refusable too, but the books no longer hold its orders
		m.refuse(wire.Errorf(wire.CodeInternal, "account %s failed", a.e.name))
		for _, o := range m.orders {
			a.orders.Remove(o.ID)
		}
	case *armedMsg: // refusable too; refused by its symbol, the order is not there to pull
		if m.amend == nil && (m.code != trigger.OK || m.err != nil) {
			a.orders.Remove(m.id)
		}
		m.refuse(wire.Errorf(wire.CodeInternal, "account %s is unavailable after an internal error", a.e.name))
	case refusable:
		m.refuse(wire.Errorf(wire.CodeInternal, "account %s is unavailable after an internal error", a.e.name))
	case *triggeredMsg: // fired before the pull reached its symbol: the failed account places nothing
		a.orders.Remove(m.id)
	case *takerResultMsg:
		if a.liq != nil && a.liq.Owns(m.id) {
			a.onLiquidationResult(ctx, m)
			return
		}
		if len(m.fills) > 0 {
			h := a.x.symbols[m.sym]
			a.hold(h, m.fills[0].TakerSide, m.fills, h.sym.TakerFee, a.bookedOf(m))
		}
		// The book is done with what it says is over; the pull takes the rest.
		if terminal(wireStatus(m.status)) || m.code != book.OK || m.err != nil {
			a.orders.Remove(m.id)
		}
		if p := a.partial; p != nil && p.o.id == m.id {
			// Its partial liquidation's IOC order: its fills held as
			// above, it is over and nothing more can come for it, so a
			// snapshot need not wait for it (risk, frozen, keeps it).
			a.partial = nil
		}
		for _, c := range m.canceled {
			a.orders.Remove(c.ID)
		}
		if m.done != nil {
			m.done(wire.OrderReply{Reply: wire.Fail(wire.Errorf(wire.CodeInternal, "account %s failed", a.e.name))})
		}
	case *adlCloseMsg:
		if a.answeredBefore(m) {
			return
		}
		var c closeBooked // nothing closed, unless risk booked it before the panic
		if a.closing.m == m {
			c, a.closing = a.closing, closeBooked{}
		}
		a.answerFailed(ctx, m, c.done, c.by)
	case *socialMsg:
		switch m.kind {
		case socialCharged: // a winner's payment the abandoned liquidation gives back
			if i := a.abandonedLeg(m.sym); i >= 0 {
				a.abandoned(ctx, liq.SocialCharged{Leg: i, Paid: m.amount, Asked: m.asked, Account: m.winner, Qty: m.qty, Closed: m.closed})
			} else if m.amount > 0 {
				a.x.log.Error("actors: a socialized-loss payment to a failed account dropped", "account", a.e.name, "from", m.name, "amount", m.amount)
			}
		case socialRefund: // the winner's own money: held for it (wallet.held)
			a.wallet(a.x.symbols[m.sym]).held += m.amount
			a.x.log.Error("actors: a socialized-loss refund to a failed account held for it", "account", a.e.name, "from", m.name, "amount", m.amount)
		case adlAdjust: // a receipt is its money, held like a refund; it pays nothing
			if a.answeredBefore(m) { // its frozen state took it
				return
			}
			var moved market.Money
			if m.amount > 0 {
				moved = m.amount
				a.wallet(a.x.symbols[m.sym]).held += moved
				a.x.log.Error("actors: an ADL close adjustment to a failed account held for it", "account", a.e.name, "from", m.name, "amount", moved)
			}
			ctx.Send(m.bankrupt, &socialMsg{kind: adlAdjusted, sym: m.sym, amount: moved, asked: m.amount, name: a.e.name})
		case adlAdjusted: // what a counterparty paid or was paid: the frozen leg books it
			if i := a.abandonedLeg(m.sym); i >= 0 {
				a.abandoned(ctx, liq.CloseAdjusted{Leg: i, Amount: m.amount, Asked: m.asked})
			} else if m.amount != 0 {
				a.x.log.Error("actors: an ADL close adjustment for no liquidation of a failed account dropped", "account", a.e.name, "from", m.name, "amount", m.amount)
			}
		case socialPlan: // counted down, as the charges it announces
			if i := a.abandonedLeg(m.sym); i >= 0 {
				a.abandoned(ctx, liq.SocialPlan{Leg: i, N: m.n, Uncovered: m.amount})
			}
		case socialCharge:
			if a.answeredBefore(m) {
				return
			}
			a.unable(ctx, m, 0)
			ctx.Send(m.bankrupt, &socialMsg{kind: socialCharged, sym: m.sym, asked: m.amount, name: a.e.name, winner: m.winner, qty: m.qty, closed: m.closed})
		case socialCap: // quoted after the failure: give it back
			if i := a.abandonedLeg(m.sym); i >= 0 {
				a.abandoned(ctx, liq.SocialCap{Leg: i, Amount: m.amount})
			}
		}
	case *reservedMsg: // granted after the failure: give it back
		if a.liq != nil {
			a.abandoned(ctx, liq.Reserved{Amount: m.amount})
		}
	case *adlRetryMsg:
		if m.fast {
			a.x.timers.Add(-1) // or quiesce waits for it forever
		}
		if a.liq != nil && a.liq.Res == m.res { // its abandoned leg waits for nothing more
			if i := a.abandonedLeg(m.sym); i >= 0 {
				a.abandoned(ctx, liq.TimerFired{Leg: i})
			}
		}
	case *adlPlanMsg: // counted down: Quiet waits for the closes it announces
		if i := a.abandonedLeg(m.sym); i >= 0 {
			a.abandoned(ctx, liq.ADLPlan{Leg: i, Closes: m.closes, Covered: m.covered})
		}
	case *adlFilledMsg: // a counterparty closed at B: the frozen leg books it
		if i := a.abandonedLeg(m.sym); i >= 0 {
			a.abandoned(ctx, liq.ADLFilled{Leg: i, Qty: m.qty, Asked: m.asked})
			return
		}
		a.x.log.Error("actors: an ADL close for no liquidation of a failed account dropped", "account", a.e.name, "qty", m.qty)
	case *makerFillMsg:
		h := a.x.symbols[m.sym]
		a.hold(h, m.fill.TakerSide.Opposite(), []book.Fill{m.fill}, m.rate(h), a.bookedOf(m))
		if m.fill.MakerRemaining == 0 {
			a.orders.Remove(m.fill.MakerID)
		}
		m.recycle()
	case *fundingMsg:
		a.x.log.Error("actors: message for a failed account dropped", "account", a.e.name, "message", fmt.Sprintf("%T", m))
	}
}

// answeredBefore says whether m is the re-post of the forced close,
// charge or close adjustment the account answered before it panicked on it (answered): the
// bankrupt account counts one answer per request, a second would end its
// round early or find no leg. It forgets m.
func (a *accountActor) answeredBefore(m any) bool {
	if m != a.answered {
		return false
	}
	a.answered = nil
	return true
}

// abandonedLeg is the index of the failed account's liquidation leg in
// symbol sym, -1 without one.
func (a *accountActor) abandonedLeg(sym int) int {
	if a.liq == nil {
		return -1
	}
	return a.liq.legOf(a.x.symbols[sym])
}

// abandon gives up, once, what the failed account held for others (see
// above). Answers to requests it had sent still arrive and are handled by
// refuseAll.
func (a *accountActor) abandon(ctx actor.Context) {
	a.cancelIDs(ctx, a.openIDs(nil), nil)
	for _, h := range a.x.symbols {
		// Off the ranking: a zero position removes it.
		ctx.Send(a.x.adl, &adlPositionMsg{sym: h.idx, acct: a.e.id, name: a.e.name, pid: a.e.pid})
		// No more marks and funding for an account that handles none.
		if st := &a.syms[h.idx]; st.subscribed {
			st.subscribed = false
			a.unsubscribe(ctx, h, st)
		}
	}
	if a.liq != nil {
		for _, e := range a.liq.Abandon() {
			a.giveBack(ctx, e)
		}
	}
}

// abandoned feeds an answer that arrived after the failure to the
// abandoned liquidation, which gives back what it grants.
func (a *accountActor) abandoned(ctx actor.Context, in liq.Input) {
	for _, e := range a.liq.Abandon() { // first, if the failure's own message has not come yet
		a.giveBack(ctx, e)
	}
	if failedMessage(ctx) == a.took {
		// The re-post of the answer the live machine took before the
		// account panicked: Abandon gave back what it granted (a winner's
		// payment it booked); fed again it would be given back twice.
		a.took = nil
		return
	}
	// An abandoned machine only gives back and books what its legs' IOC
	// orders and ADL closes did; refusing one is a broken invariant of an
	// account already out of service: said loudly, the audit shows it.
	if err := a.liq.Step(in); err != nil {
		a.x.log.Error("actors: the abandoned liquidation of a failed account refused an answer", "account", a.e.name, "error", err)
	}
	for _, e := range a.liq.Ready() {
		a.giveBack(ctx, e)
	}
}
