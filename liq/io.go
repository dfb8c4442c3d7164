package liq

import (
	"time"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// Input is what a Machine is told (Step).
type Input interface{ input() }

// Inputs. Leg is an index into Machine.Legs.
type (
	// Reserved is the fund's answer to Reserve: Amount reserved and the
	// legs' quotes, in Reserve's leg order.
	Reserved struct {
		Amount market.Money
		Quotes []Quote
	}
	// SocialCap answers QuoteSocial: Amount of the winners' profit is set
	// aside for the leg.
	SocialCap struct {
		Leg    int
		Amount market.Money
	}
	// IOCDone is a liquidation order's result: its fills; the rest was
	// canceled.
	IOCDone struct {
		ID    book.OrderID
		Fills []risk.Exec
	}
	// ADLPlan answers Deleverage: Closes forced closes of Covered lots in
	// all were sent to ranked counterparties (0: nothing to close now).
	ADLPlan struct {
		Leg     int
		Closes  int
		Covered book.Lots
	}
	// ADLFilled is one counterparty's answer: of the Asked lots it closed
	// Qty at the leg's bankruptcy price. Account is the counterparty, 0 for
	// another liquidation's leg (CloseAgainst) or for a counterparty that
	// closed before its own payment of the funding time the leg took: a
	// funding payment of the leg that the round's closes missed is
	// collected from the accounts (AdjustClose), the rest is kept.
	ADLFilled struct {
		Leg     int
		Qty     book.Lots
		Asked   book.Lots
		Account book.AccountID
	}
	// CloseAdjusted answers AdjustClose: of the Asked adjustment, Amount
	// moved (the counterparty's balance change: all of a receipt; of a
	// payment what it could pay, 0 to Asked).
	CloseAdjusted struct {
		Leg           int
		Amount, Asked market.Money
	}
	// TimerFired: a RetryAfter's wait is over.
	TimerFired struct{ Leg int }
	// SocialPlan answers Socialize: N charges were sent to winners, and
	// Uncovered of the deficit found no profit to charge at the mark (it
	// fell since the set-aside): it is spread again like an unpaid charge.
	SocialPlan struct {
		Leg       int
		N         int
		Uncovered market.Money
	}
	// SocialCharged is one winner's answer: of the Asked charge it paid
	// Paid (0 when its profit no longer covers it). Account is the winner,
	// Qty its position after paying, Closed whether the charge was against
	// profit it had taken out (adl.Charge.Closed): its refund needs them.
	SocialCharged struct {
		Leg         int
		Paid, Asked market.Money
		Account     book.AccountID
		Qty         book.Lots
		Closed      bool
	}
	// Funding is a funding payment of the leg's remainder, which the
	// liquidation holds (+ received, − paid; risk.FundingPayment): it joins
	// the liquidation's equity and moves the leg's bankruptcy price
	// (Machine.onFunding).
	Funding struct {
		Leg    int
		Amount market.Money
	}
	// OrderFill is Qty lots of a fill of one of the account's own orders
	// that close the leg (Machine.Closing), at Price: the book matched the
	// order before the takeover's cancel reached it, so the fill came
	// before the reservation was answered. Value is what those lots'
	// trade is worth and Fee their fee (risk's Account.TakeFill); the
	// leg books them as an execution, and the equity pays the fee and
	// their loss beyond the leg's bankruptcy price, moving the open
	// legs' prices by it as funding does (Machine.spread).
	OrderFill struct {
		Leg        int
		Price      book.Ticks
		Qty        book.Lots
		Value, Fee market.Money
	}
)

// inputName names in's type for a broken invariant's message (fmt's %T
// would make every input escape to the heap).
func inputName(in Input) string {
	switch in.(type) {
	case Reserved:
		return "Reserved"
	case SocialCap:
		return "SocialCap"
	case IOCDone:
		return "IOCDone"
	case ADLPlan:
		return "ADLPlan"
	case ADLFilled:
		return "ADLFilled"
	case TimerFired:
		return "TimerFired"
	case SocialPlan:
		return "SocialPlan"
	case SocialCharged:
		return "SocialCharged"
	case Funding:
		return "Funding"
	case OrderFill:
		return "OrderFill"
	case CloseAdjusted:
		return "CloseAdjusted"
	}
	return "unknown input"
}

func (Reserved) input()      {}
func (SocialCap) input()     {}
func (IOCDone) input()       {}
func (ADLPlan) input()       {}
func (ADLFilled) input()     {}
func (TimerFired) input()    {}
func (SocialPlan) input()    {}
func (SocialCharged) input() {}
func (Funding) input()       {}
func (OrderFill) input()     {}
func (CloseAdjusted) input() {}

// Effect is what a Machine asks its caller to do (Ready): a pointer to
// one of the types below.
type Effect interface{ effect() }

// Effects.
type (
	// Reserve asks the fund for coverage: each leg's need is quoted from
	// its book (Need), then the fund reserves min(available, Coverage) and
	// answers Reserved.
	Reserve struct {
		ID   fund.ReservationID
		Base market.Money // what closing every leg at its bankruptcy price costs (risk's Liquidation.Deficit)
		Legs []QuoteLeg
	}
	// QuoteSocial asks the ADL ranking to set aside the profit of the
	// winners opposite a socialized leg (Side is the leg's); answered by
	// SocialCap.
	QuoteSocial struct {
		Leg  int
		Side book.Side
	}
	// PlaceIOC places the leg's liquidation order (limit, IOC); answered
	// by IOCDone.
	PlaceIOC struct {
		Leg   int
		ID    book.OrderID
		Side  book.Side
		Price book.Ticks
		Qty   book.Lots
	}
	// Deleverage offers the leg's remainder Qty (signed) to ADL at Price,
	// the leg's bankruptcy price; the ranking holds it with entry cost
	// Cost (RankedCost). Answered by ADLPlan, then one ADLFilled per close.
	Deleverage struct {
		Leg   int
		Price book.Ticks
		Qty   book.Lots
		Cost  market.Money
	}
	// RetryAfter: feed TimerFired for the leg after the wait.
	RetryAfter struct {
		Leg   int
		After time.Duration
	}
	// Socialize asks the ADL ranking to spread Deficit over the winners
	// opposite the leg (Side is the leg's), their profit valued at the
	// ranking's mark, and to release Release of the leg's set-aside;
	// answered by SocialPlan, then one SocialCharged per charge. Before the
	// leg's order goes out it collects the escrow; at the settlement, what
	// a base deficit left beyond it.
	Socialize struct {
		Leg              int
		Side             book.Side
		Deficit, Release market.Money
	}
	// Refund gives Amount of a winner's payment (Payer) back: the escrow
	// held more than the settlement needed, or the liquidation was
	// abandoned. Qty and Closed are the payment's.
	Refund struct {
		Leg     int
		Side    book.Side
		Account book.AccountID
		Amount  market.Money
		Qty     book.Lots
		Closed  bool
	}
	// Settle books the finished liquidation with the fund (Fund: + in,
	// − out of the reservation, which is then released) and its fee in
	// the fees ledger; the liquidation is over.
	Settle struct {
		ID          fund.ReservationID
		Fund        market.Money
		Fee, Volume market.Money
		Symbol      *market.Symbol // the first leg's, for the fund's history
	}
	// AnswerClose answers a counterparty close CloseAgainst deferred: of
	// the Asked lots, Qty were closed at Price; Token is the caller's name
	// for the close, as given to CloseAgainst (a value, so the machine's
	// state can be journaled and snapshotted).
	AnswerClose struct {
		Leg        int
		Token      uint64
		Qty, Asked book.Lots
		Price      book.Ticks
	}
	// Reprice reports the leg's remainder to the ADL ranking again (as
	// Deleverage does, without a request): a funding payment moved its
	// bankruptcy price, the bound the ranking holds it to as a
	// counterparty, while it waits between ADL rounds.
	Reprice struct {
		Leg   int
		Price book.Ticks
		Qty   book.Lots
		Cost  market.Money
	}
	// AdjustClose moves Account's balance by Amount (+ received, − paid,
	// at most what backs it: risk's Account.AdjustADLClose) for the Qty
	// lots it closed of the leg by ADL at the bankruptcy price the round
	// was sent with, when a funding payment of the leg came while the round
	// was out and the round closed the whole leg: had the payment come a
	// moment earlier, they would have closed at the price it moved
	// (Machine.adjustCloses). Answered by CloseAdjusted.
	AdjustClose struct {
		Leg     int
		Account book.AccountID
		Qty     book.Lots
		Amount  market.Money
	}
	// Release gives the reservation back unsettled (Abandon).
	Release struct{ ID fund.ReservationID }
	// ReleaseSocial gives back a leg's set-aside unused (Abandon).
	ReleaseSocial struct {
		Leg    int
		Side   book.Side
		Amount market.Money
	}
)

func (*Reserve) effect()       {}
func (*QuoteSocial) effect()   {}
func (*PlaceIOC) effect()      {}
func (*Deleverage) effect()    {}
func (*RetryAfter) effect()    {}
func (*Socialize) effect()     {}
func (*Settle) effect()        {}
func (*AnswerClose) effect()   {}
func (*Reprice) effect()       {}
func (*Release) effect()       {}
func (*ReleaseSocial) effect() {}
func (*Refund) effect()        {}
func (*AdjustClose) effect()   {}
