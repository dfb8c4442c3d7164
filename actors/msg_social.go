package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// socializeMsg asks the ADL actor to spread a liquidation's deficit the
// fund could not cover over the profitable positions opposite side on a
// socialized-loss symbol (adl.Ranking.Socialize). The ADL actor sends each
// winner a socialMsg{kind: socialCharge} and the bankrupt account a
// socialMsg{kind: socialPlan}.
type socializeMsg struct {
	sym     int
	side    book.Side // the bankrupt leg's side
	deficit market.Money
	// release is the capacity the quote set aside, released now.
	release market.Money
	// quote asks instead for the winners' profit not set aside yet, to be
	// set aside; answered with a socialMsg{kind: socialCap}.
	quote bool
	// abandon only releases: the liquidation's account failed before
	// it could settle (failure.go); nothing is answered.
	abandon bool
	// unable (a winner's account, not a liquidation's) says the winner
	// could not pay all of a charge for side (one against the profit it
	// took out when closed): later rounds pass such charges over.
	unable book.AccountID
	closed bool
	unpaid market.Money // of the charge
	// refund (a liquidation's, liq.Refund) gives back refund of what
	// winner paid into its escrow, qty the ranking's lots of it then: the
	// ADL actor takes it off what rounds charged the position and passes
	// it on to the winner (socialRefund).
	refund market.Money
	winner book.AccountID
	qty    book.Lots
	pid    *actor.PID
	name   string
}

type socialKind uint8

const (
	// socialCharge (ADL actor → winner): debit amount at mark, answer the
	// bankrupt account with a socialCharged.
	socialCharge socialKind = iota + 1
	// socialPlan (ADL actor → bankrupt): n charges were sent; amount of
	// the deficit found no profit to charge.
	socialPlan
	// socialCharged (winner → bankrupt): amount was debited (0 if the
	// winner could not pay it).
	socialCharged
	// socialCap (ADL actor → bankrupt): amount of winners' profit is set
	// aside for the liquidation.
	socialCap
	// socialRefund (ADL actor → winner): amount of its escrow comes back.
	socialRefund
	// adlAdjust (bankrupt → ADL counterparty, liq.AdjustClose): move the
	// balance by amount (+ in, − out, as far as it can) for its close of
	// the bankrupt's leg, answered by an adlAdjusted with what moved.
	// Either mode: not a socialized loss, but the same kind of transfer.
	adlAdjust
	adlAdjusted
)

// socialMsg is every socialized-loss message an account actor receives,
// and the price adjustments of ADL closes (adlAdjust).
type socialMsg struct {
	kind   socialKind
	sym    int
	n      int
	amount market.Money
	asked  market.Money // socialCharged: the charge, amount what was paid
	mark   book.Ticks
	// winner, qty: a charge's winner and the ranking's lots of it then
	// (a socialCharged echoes them, for its refund: liq.Payer).
	winner   book.AccountID
	qty      book.Lots
	bankrupt *actor.PID
	name     string // the bankrupt account (charge) or the winner (charged)
	// closed: a charge against profit the winner took out since it was
	// set aside (adl.Charge.Closed), paid from cash.
	closed bool
	side   book.Side // a charge's bankrupt side
}
