package actors

import (
	"fmt"
	"sync/atomic"

	"github.com/perpx/perpx/liq"
)

// replayPanic is the client order id whose place PanicOnReplayForTest
// makes panic in replay; nil: none (the only cost, one load a record).
var replayPanic atomic.Pointer[string]

// PanicOnReplayForTest makes the replay of a place with client order id
// cid panic in its account's handler, as a deterministic bug would; ""
// turns it off. The live exchange places it as usual: only an instance
// replaying the journal (a restart, a follower, a takeover) meets the
// panic. For tests of what an instance does then
// (TestClusterStandbyReplayPanic); nothing else may call it.
func PanicOnReplayForTest(cid string) {
	if cid == "" {
		replayPanic.Store(nil)
		return
	}
	replayPanic.Store(&cid)
}

func panicForTest(cid string, m any) {
	if p, ok := m.(*placeReq); ok && p.req.ClientOrderID == cid {
		panic(fmt.Sprintf("test: the replay of place %q panics (PanicOnReplayForTest)", cid))
	}
}

// haltRecorded runs, when set (tests only), between a halt's or a lift's
// record and its mark (failures.journaling).
var haltRecorded atomic.Pointer[func()]

// failTest makes an actor panic, live and in replay alike, as a
// deterministic bug would (FailOrderForTest); nil: none (one load a
// message).
var failTest atomic.Pointer[failOrder]

type failOrder struct {
	cid string
	at  FailAt
}

// FailAt is where FailOrderForTest's panic happens.
type FailAt int

// Where an order's handling panics.
const (
	FailPlace    FailAt = iota // its account, on its place
	FailResult                 // its account, on its book's result (a protocol message the failed account then answers)
	FailBook                   // its book (a shared actor: trading halts)
	FailCanceled               // its account, on its book's answer to its cancel
	// FailLiquidation: any account, on its book's result of a liquidation's
	// IOC order issued by an odd journal record (ids are the record's
	// sequence, shifted: replay issues the same), whatever cid: about half
	// the liquidations that reach the book are abandoned there.
	FailLiquidation
	// FailCharged: a liquidating account, once its liquidation booked a
	// winner's payment (the answer to a socialized-loss charge, paid) and
	// carried out what it asked, whatever cid.
	FailCharged
	// FailBooked: a liquidating account, once its liquidation booked its
	// IOC order's fills and carried out what it asked, whatever cid.
	FailBooked
	// FailPartial: an account, once it sent its partial liquidation's
	// reduce order, whatever cid.
	FailPartial
	// The account named cid: FailADLClosed once risk booked a forced close
	// (before its answer), FailADLAnswered once it answered one,
	// FailChargeAnswered once it answered a socialized-loss charge it
	// paid, FailADLPlan and FailADLFilled on an ADL plan or close for its
	// liquidation (before its machine counts it), FailAdjustAnswered once
	// it answered an ADL close adjustment that moved money,
	// FailLegClosed once its liquidation's leg booked a forced close as a
	// counterparty (CloseAgainst, a close not deferred: where a refused
	// settlement stops it), before its answer, FailPlanStepped once its
	// liquidation took an ADL plan (and closed the closes it had
	// deferred), where mustOK stops it when that Step fails, FailADLAcked
	// once it acknowledged a forced close to the ranking, before its
	// answer.
	FailADLClosed
	FailADLAnswered
	FailChargeAnswered
	FailADLPlan
	FailADLFilled
	FailAdjustAnswered
	FailLegClosed
	FailPlanStepped
	FailADLAcked
	// FailQuote: the book of the symbol named cid, on any liquidation's
	// coverage quote passing through it.
	FailQuote
)

// FailOrderForTest makes the handling of the order with client order id
// cid panic at at; "" turns it off. Tests only.
func FailOrderForTest(cid string, at FailAt) {
	if cid == "" {
		failTest.Store(nil)
		return
	}
	failTest.Store(&failOrder{cid: cid, at: at})
}

// check panics when account a handles the message f names.
func (f *failOrder) check(a *accountActor, m any) {
	switch m := m.(type) {
	case *placeReq:
		if f.at == FailPlace && m.req.ClientOrderID == f.cid {
			panic(fmt.Sprintf("test: the place %q panics (FailOrderForTest)", f.cid))
		}
	case *takerResultMsg:
		if o := a.orders.get(m.id); f.at == FailResult && o != nil && o.clientID == f.cid {
			panic(fmt.Sprintf("test: the result of %q panics (FailOrderForTest)", f.cid))
		}
		if f.at == FailLiquidation && a.liq != nil && a.liq.Owns(m.id) && m.id>>8%2 == 1 {
			panic(fmt.Sprintf("test: the result of liquidation order %d panics (FailOrderForTest)", m.id))
		}
	case *adlPlanMsg:
		f.named(a, FailADLPlan)
	case *adlFilledMsg:
		f.named(a, FailADLFilled)
	case *canceledMsg:
		for _, c := range m.orders {
			if o := a.orders.get(c.ID); f.at == FailCanceled && o != nil && o.clientID == f.cid {
				panic(fmt.Sprintf("test: the cancel of %q panics (FailOrderForTest)", f.cid))
			}
		}
	}
}

// stepped panics when a's liquidation took in as f names, before mustOK
// and took (as a Step that failed after booking in would stop a).
func (f *failOrder) stepped(a *accountActor, in liq.Input) {
	if _, ok := in.(liq.ADLPlan); ok {
		f.named(a, FailPlanStepped)
	}
}

// checkStep panics when a's liquidation took in as f names (after
// perform: the account panics on the message after the machine booked it).
func (f *failOrder) checkStep(in liq.Input) {
	switch in := in.(type) {
	case liq.SocialCharged:
		if f.at == FailCharged && in.Paid > 0 {
			panic(fmt.Sprintf("test: the liquidation booked a payment of %d (FailOrderForTest)", in.Paid))
		}
	case liq.IOCDone:
		if f.at == FailBooked && len(in.Fills) > 0 {
			panic(fmt.Sprintf("test: the liquidation booked the fills of order %d (FailOrderForTest)", in.ID))
		}
	}
}

// failAt panics when account a, the one FailOrderForTest names, reaches
// point at (one load a call).
func failAt(a *accountActor, at FailAt) {
	if f := failTest.Load(); f != nil {
		f.named(a, at)
	}
}

// named panics when f names account a and point at.
func (f *failOrder) named(a *accountActor, at FailAt) {
	if f.at == at && a.e.name == f.cid {
		panic(fmt.Sprintf("test: %s panics at %d (FailOrderForTest)", f.cid, at))
	}
}

// checkBook panics when the book of sym handles the place, arm or quote f
// names.
func (f *failOrder) checkBook(sym string, m any) {
	if p, ok := m.(*placeMsg); ok && f.at == FailBook && p.order.ClientID == f.cid {
		panic(fmt.Sprintf("test: the book's place of %q panics (FailOrderForTest)", f.cid))
	}
	if a, ok := m.(*armMsg); ok && f.at == FailBook && a.req != nil && a.req.req.ClientOrderID == f.cid {
		panic(fmt.Sprintf("test: the book's arm of %q panics (FailOrderForTest)", f.cid))
	}
	if _, ok := m.(*reserveMsg); ok && f.at == FailQuote && sym == f.cid {
		panic(fmt.Sprintf("test: the %s book's quote panics (FailOrderForTest)", sym))
	}
}
