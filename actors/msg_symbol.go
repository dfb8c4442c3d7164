package actors

import (
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/wire"
)

// Messages a symbol actor receives.
type (
	// placeMsg is an order accepted by its account actor (or a liquidation
	// order); the result goes back to from, with done.
	placeMsg struct {
		order book.Order
		from  *actor.PID
		done  func(wire.OrderReply)
		req   *placeReq // a client order: the result goes in req.result; nil allocates one
		// liquidation: a liquidation's IOC, which pays no taker fee, so its
		// makers get no rebate (makerFillMsg.liquidation)
		liquidation bool
	}
	// amendMsg amends one resting order of acct (a client amend): price 0
	// keeps the book's price, qty 0 its quantity; qty is the new total
	// (filled + open). Answered with a takerResultMsg whose amend is set.
	amendMsg struct {
		id    book.OrderID
		acct  book.AccountID
		price book.Ticks
		qty   book.Lots
		from  *actor.PID
		done  func(wire.OrderReply)
	}
	// cancelMsg cancels one order (a client cancel): answered with a
	// canceledMsg carrying done.
	cancelMsg struct {
		id    book.OrderID
		from  *actor.PID
		done  func(wire.OrderReply)
		quiet bool // done goes nowhere (cancelReq.quiet)
		// again: sent a second time, after a conditional order that fired
		// (see accountActor.firedInFlight).
		again bool
	}
	// cancelIDsMsg cancels several orders of one account by id (liquidation,
	// reduce-only trimming); ids no longer resting are skipped.
	cancelIDsMsg struct {
		ids   []book.OrderID
		from  *actor.PID
		all   *cancelAllReq // handed back in the answer
		again bool          // as cancelMsg's
		// bankrupt: the cancel of closes past their bound
		// (cancelPastCloses), handed back in the answer: the orders it
		// cancels show canceled_by_bankruptcy, not those another cancel
		// reached first.
		bankrupt bool
	}
	// unsubscribeMsg: the account's position is flat; stop sending it
	// marks unless a fill was sent after the fills it has seen. One per
	// account and symbol, reused (accountActor.unsubscribe): fills is the
	// account's latest count, queued is true from the send until the
	// symbol actor handles it.
	unsubscribeMsg struct {
		acct   book.AccountID
		fills  atomic.Uint64
		queued atomic.Bool
	}
	// indexMsg is an index tick (admin or the index source).
	indexMsg struct {
		index book.Ticks
		done  func(wire.IndexReply)
	}
	// depthMsg asks for a depth snapshot.
	depthMsg struct {
		levels int
		done   func(wire.DepthReply)
	}
)

// update stores the account's fill count; send says the message is not
// queued (send it).
func (m *unsubscribeMsg) update(fills uint64) (send bool) {
	m.fills.Store(fills)
	return !m.queued.Swap(true)
}

// take reads the latest fill count and lets the account send again.
func (m *unsubscribeMsg) take() uint64 {
	m.queued.Store(false) // before reading fills: a newer count is sent again or read here
	return m.fills.Load()
}

func (m *indexMsg) refuse(e *wire.Error) { m.done(wire.IndexReply{Reply: wire.Fail(e)}) }
func (m *depthMsg) refuse(e *wire.Error) { m.done(wire.DepthReply{Reply: wire.Fail(e)}) }
