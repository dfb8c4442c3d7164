package actors

import (
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
