package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/liq"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// Messages the fund actor receives.
type (
	// reserveMsg asks for liquidation id's coverage reservation. It goes
	// first through the symbol actor of each leg in turn (legs[next]),
	// which sets the leg's need from its book (symbolActor.quoteNeed),
	// then to the fund actor, which reserves min(available, base + Σ need)
	// and answers from with a reservedMsg. Each hop owns the message in
	// turn; the account reads the needs back when the answer arrives.
	reserveMsg struct {
		id    fund.ReservationID
		asset int          // the liquidating wallet's
		base  market.Money // reserved before the legs (liq.Reserve.Base)
		legs  []quoteLeg
		next  int
		// legBuf holds the leg of the common single-leg case
		legBuf [1]quoteLeg
		from   *actor.PID
	}
	// quoteLeg is a liquidation leg on its way through the books: its
	// symbol actor sets quote (liq.Need).
	quoteLeg struct {
		h     *symbolHandle
		leg   liq.QuoteLeg
		quote liq.Quote
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
	// releaseMsg gives back a reservation that will never be settled: its
	// account failed mid-liquidation (failure.go).
	releaseMsg struct {
		id fund.ReservationID
	}
	// adlCountMsg: a counterparty's position was closed by ADL (counted
	// in the fund's daily report).
	adlCountMsg    struct{ sym int }
	fundDepositMsg struct {
		amount market.Money
		asset  int
		done   func(wire.BalanceReply)
	}
	fundStateMsg struct {
		req  wire.FundState
		done func(wire.FundStateReply)
	}
	fundDailyMsg struct {
		req  wire.FundDaily
		done func(wire.FundDailyReply)
	}
)

func (m *fundDepositMsg) refuse(e *wire.Error) { m.done(wire.BalanceReply{Reply: wire.Fail(e)}) }
func (m *fundStateMsg) refuse(e *wire.Error)   { m.done(wire.FundStateReply{Reply: wire.Fail(e)}) }
