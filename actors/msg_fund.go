package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// Messages the fund actor receives.
type (
	// reserveMsg asks for a coverage reservation of up to need for
	// liquidation id; answered with a reservedMsg to from.
	reserveMsg struct {
		id   fund.ReservationID
		need market.Money
		sym  int
		from *actor.PID
	}
	// settleMsg books a finished liquidation (pnl = risk's Settlement.Fund:
	// + surplus in, − deficit out of the reservation) and releases the
	// reservation.
	settleMsg struct {
		id     fund.ReservationID
		acct   book.AccountID
		name   string
		sym    string
		pnl    market.Money
		volume market.Money
	}
	// deficitMsg draws a loss risk reported outside a liquidation (a close
	// far from the mark that left the account's last position short of
	// cash): FillResult.Deficit.
	deficitMsg struct {
		acct   string
		sym    int
		amount market.Money
	}
	fundDepositMsg struct {
		amount market.Money
		done   func(wire.BalanceReply)
	}
	fundStateMsg struct {
		done func(wire.FundStateReply)
	}
)

func (m *fundDepositMsg) refuse(e *wire.Error) { m.done(wire.BalanceReply{Reply: wire.Fail(e)}) }
func (m *fundStateMsg) refuse(e *wire.Error)   { m.done(wire.FundStateReply{Reply: wire.Fail(e)}) }
