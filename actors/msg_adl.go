package actors

import (
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// Messages the ADL actor receives.
type (
	// adlPositionMsg is an account's position in sym (qty signed, 0 removes
	// it) with its entry cost and collateral (see accountActor.adlPosition).
	// acked is the quantity of forced closes (adlCloseMsg) the account
	// handled since its previous report, whatever it could close.
	adlPositionMsg struct {
		sym    int
		acct   book.AccountID
		name   string
		pid    *actor.PID
		qty    book.Lots
		cost   market.Money
		margin market.Money
		acked  book.Lots
		// bound > 0: a liquidation's remainder, closing at no price worse
		// than bound, its bankruptcy price (adl.Ranking.Report)
		bound book.Ticks
		slot  *reportSlot // the report's, freed once handled (durable mode)
	}
	// adlReport carries an account's latest ordinary position report in
	// one symbol (accountActor.reportPosition): one per account and symbol,
	// reused, so reports cost no allocation and those that arrive while
	// one is queued cost no message. queued is true from the send until the
	// ADL actor takes the report. In durable mode n counts the reports
	// merged into the queued one, which the ADL actor's record names
	// (recMerged), and posts is the account's count of posts to the ADL
	// actor that this one's send made (sendCtx.adlPosts).
	adlReport struct {
		mu     sync.Mutex
		queued bool
		pos    adlPositionMsg
		n      uint32
		posts  uint64
	}
	// adlMarkMsg is a symbol's new mark.
	adlMarkMsg struct {
		sym  int
		mark book.Ticks
	}
	// deleverageMsg asks to close a bankrupt leg's remainder against the
	// ranked opposite positions at the bankruptcy price. pos is the leg as
	// the ranking should hold it (the remainder); the ADL actor answers the
	// bankrupt account with an adlPlanMsg and each counterparty with an
	// adlCloseMsg.
	deleverageMsg struct {
		pos   adlPositionMsg
		price book.Ticks
	}
	queueMsg struct {
		sym  int
		side wire.PosSide
		done func(wire.ADLQueueReply)
	}
	// rankMsg fills the ADL lights of an account's state reply and sends it.
	rankMsg struct {
		acct    book.AccountID
		account *wire.Account
		done    func(wire.AccountReply)
	}
)

// adlFlushMsg is the ADL actor's note to itself to serve the queued
// deleverage requests.
type adlFlushMsg struct{}

func (m *queueMsg) refuse(e *wire.Error) { m.done(wire.ADLQueueReply{Reply: wire.Fail(e)}) }
func (m *rankMsg) refuse(e *wire.Error)  { m.done(wire.AccountReply{Reply: wire.Fail(e)}) }

// update stores the account's latest report, adding acked to the acked
// quantity of a report still queued; send says the report is not queued
// (send it).
func (r *adlReport) update(p adlPositionMsg, acked book.Lots) (send bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.queued {
		acked += r.pos.acked
	}
	send = !r.queued
	r.pos, r.pos.acked, r.queued = p, acked, true
	return send
}

// putDurable gives r a durable report; posts is the account's count of
// posts to the ADL actor so far. Queued, r merges it only if the account
// posted nothing else to the ADL actor since r (replay then finds the
// merged reports next to each other among its messages): merged. Not
// queued, r becomes it, to be posted now: post. Neither: r is queued
// behind another post, and the report needs a message of its own.
func (r *adlReport) putDurable(p adlPositionMsg, acked book.Lots, posts uint64) (merged, post bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !r.queued:
		r.pos, r.pos.acked, r.queued, r.n, r.posts = p, acked, true, 1, posts+1
		return false, true
	case r.posts != posts:
		return false, false
	}
	r.pos, r.pos.acked = p, acked+r.pos.acked
	r.n++
	return true, false
}

// take returns the report and how many it merged (durable mode; 0 in
// memory), and lets the account send the next one.
func (r *adlReport) take() (adlPositionMsg, uint32) {
	r.mu.Lock()
	p, n := r.pos, r.n
	r.queued, r.n = false, 0
	r.mu.Unlock()
	return p, n
}
