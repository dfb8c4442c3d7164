package actors

import (
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// Messages an account actor receives.

// Client requests (from the facade).
type (
	// placeReq is a client order on its way. The same allocation carries
	// the order to the book (place) and the book's answer back (result,
	// with room for one fill): each part is written by one actor before
	// it sends it on and only read after, so ownership just moves down the
	// pipeline, and the account actor that handles the result recycles it
	// (newPlaceReq, recycle). Nothing it holds outlives it: the reply's
	// order is the order's own final wire view or a snapshot.
	placeReq struct {
		req    wire.PlaceOrder
		h      *symbolHandle // req.Symbol's
		done   func(wire.OrderReply)
		place  placeMsg
		result takerResultMsg
		o      *order     // the accepted order, for its result (saves a map lookup)
		mark   book.Ticks // the symbol's mark when the order's record was made (durable mode)
		// quiet: done goes nowhere (a replayed request), so no wire view
		// of the order is built for it.
		quiet bool
	}
	cancelReq struct {
		req   wire.Cancel
		done  func(wire.OrderReply)
		quiet bool // as placeReq's
	}
	// amendReq changes an open order's price or quantity (order.amend).
	amendReq struct {
		req  wire.Amend
		h    *symbolHandle // req.Symbol's
		done func(wire.OrderReply)
		mark book.Ticks // the symbol's mark when the record was made (durable mode)
	}
	leverageReq struct {
		req  wire.Leverage
		done func(wire.LeverageReply)
		mark book.Ticks // the symbol's when its record was made (durable mode)
	}
	stateReq struct {
		h    *symbolHandle // nil: every symbol
		done func(wire.AccountReply)
	}
	cancelAfterReq struct {
		req  wire.CancelAllAfter
		done func(wire.CancelAllAfterReply)
	}
	// cancelAllReq cancels every open order of the account (in h's symbol
	// when h is set). It rides along with its cancel-by-ids messages and
	// their answers; the reply goes when the last symbol has answered.
	cancelAllReq struct {
		h       *symbolHandle
		done    func(wire.CancelAllReply)
		pending int // symbols yet to answer; -1 once answered
		orders  []wire.Order
	}
	depositReq struct {
		amount market.Money
		asset  int // the wallet (Exchange.assets)
		done   func(wire.BalanceReply)
	}
	marginModeReq struct {
		h        *symbolHandle
		isolated bool
		done     func(wire.MarginModeReply)
	}
	positionMarginReq struct {
		h     *symbolHandle
		delta market.Money // + adds, − removes
		done  func(wire.PositionMarginReply)
	}
	withdrawReq struct {
		amount market.Money
		asset  int
		done   func(wire.BalanceReply)
	}
)

func (m *marginModeReq) refuse(e *wire.Error) { m.done(wire.MarginModeReply{Reply: wire.Fail(e)}) }
func (m *positionMarginReq) refuse(e *wire.Error) {
	m.done(wire.PositionMarginReply{Reply: wire.Fail(e)})
}
func (m *withdrawReq) refuse(e *wire.Error) { m.done(wire.BalanceReply{Reply: wire.Fail(e)}) }

func (m *placeReq) refuse(e *wire.Error) { m.done(wire.OrderReply{Reply: wire.Fail(e)}) }

var placeReqs = sync.Pool{New: func() any { return new(placeReq) }}

func newPlaceReq(req wire.PlaceOrder, h *symbolHandle, done func(wire.OrderReply)) *placeReq {
	m := placeReqs.Get().(*placeReq)
	m.req, m.h, m.done, m.quiet = req, h, done, false
	return m
}

// recycle returns m to the pool once the order's result has been handled
// and answered; a nil m (a liquidation order's result) is ignored. Paths
// that refuse a request early just leave m to the garbage collector. m is
// not cleared: every part is written whole before it is read (newPlaceReq,
// accountActor.place, symbolActor.onPlace), and clearing 400 bytes per
// order cost more than the pool saves; what a pooled m still points to is
// released when it is reused or when the pool is dropped at a GC.
func (m *placeReq) recycle() {
	if m != nil {
		placeReqs.Put(m)
	}
}

var makerFills = sync.Pool{New: func() any { return new(makerFillMsg) }}

func newMakerFill(sym int, f book.Fill, tradeSeq uint64, ms int64, mark book.Ticks, funded int64, liquidation bool) *makerFillMsg {
	m := makerFills.Get().(*makerFillMsg)
	m.sym, m.fill, m.tradeSeq, m.ms, m.mark, m.funded, m.liquidation = sym, f, tradeSeq, ms, mark, funded, liquidation
	return m
}

// recycle returns m to the pool once its account actor handled it.
func (m *makerFillMsg) recycle() { makerFills.Put(m) }

// rate is the maker's fee rate on m. A liquidation's IOC pays no taker fee
// (its fee comes out of the surplus, if any): no rebate is funded, so none
// is paid.
func (m *makerFillMsg) rate(h *symbolHandle) market.Rate {
	if m.liquidation {
		return max(h.sym.MakerFee, 0)
	}
	return h.sym.MakerFee
}

func (m *cancelReq) refuse(e *wire.Error)   { m.done(wire.OrderReply{Reply: wire.Fail(e)}) }
func (m *amendReq) refuse(e *wire.Error)    { m.done(wire.OrderReply{Reply: wire.Fail(e)}) }
func (m *leverageReq) refuse(e *wire.Error) { m.done(wire.LeverageReply{Reply: wire.Fail(e)}) }
func (m *stateReq) refuse(e *wire.Error)    { m.done(wire.AccountReply{Reply: wire.Fail(e)}) }
func (m *depositReq) refuse(e *wire.Error)  { m.done(wire.BalanceReply{Reply: wire.Fail(e)}) }

func (m *cancelAfterReq) refuse(e *wire.Error) {
	m.done(wire.CancelAllAfterReply{Reply: wire.Fail(e)})
}

// refuse answers what waits on a book's cancel answer when the account's
// actor panics handling it (the supervisor refuses the failing message).
func (m *canceledMsg) refuse(e *wire.Error) {
	if m.done != nil {
		m.done(wire.OrderReply{Reply: wire.Fail(e)})
	}
	if m.all != nil && m.all.pending >= 0 { // answered once, whichever part comes first
		m.all.refuse(e)
	}
}

func (m *cancelAllReq) refuse(e *wire.Error) {
	m.pending = -1
	m.done(wire.CancelAllReply{Reply: wire.Fail(e)})
}

// From a symbol actor.
type (
	// takerResultMsg is the book's outcome of an order this account sent
	// (a client order or a liquidation order), or of an amend (amend set).
	// Fills are the taker's, in order; tradeSeq is the seq of the first one.
	takerResultMsg struct {
		sym       int
		id        book.OrderID
		code      book.RejectCode
		status    book.Status
		stpKilled bool // self-trade prevention canceled the order's remainder
		fills     []book.Fill
		// own resting orders removed by self-trade prevention (an amended
		// order killed by it is among them)
		canceled []book.CanceledOrder
		// amend is the order as the book holds it after an amend, before
		// the amended order traded (unchanged when refused); nil for an
		// order's result.
		amend *amended
		// err, when set, refuses the order whatever code says: its book
		// is out of service (symbolActor.refuseFailed).
		err      *wire.Error
		tradeSeq uint64
		ms       int64      // the trades' time (the book's), for the fills
		mark     book.Ticks // the symbol's mark at the trades (makerFillMsg.mark)
		funded   int64      // the symbol's funding time at the trades (makerFillMsg.funded)
		done     func(wire.OrderReply)
		req      *placeReq    // the client order's allocation; nil for a liquidation order
		one      [1]book.Fill // fills' storage when there is one
	}
	// amended is an order as an amend left it in the book: its price,
	// total quantity (filled + open) and open quantity, and the symbol's
	// mark (for the reservation's margin price).
	amended struct {
		price     book.Ticks
		qty, open book.Lots
		mark      book.Ticks
	}
	// makerFillMsg is one fill of a resting order of this account; pooled
	// (newMakerFill, recycle).
	makerFillMsg struct {
		sym      int
		fill     book.Fill
		tradeSeq uint64
		ms       int64 // the trade's time (the book's)
		// mark is the symbol's at the trade: an account with no position
		// gets no marks, so its resting order's mark was that of its
		// placement, and the position the fill opens was valued at it
		mark book.Ticks
		// funded is the symbol's latest funding time at the trade
		// (symbolActor.funded): a position opened after a funding time
		// whose message it did not get has seen it (acctSym.funded)
		funded int64
		// liquidation: the taker was a liquidation's IOC (no rebate)
		liquidation bool
	}
	// canceledMsg answers a cancel (done set: a client cancel) or a batch
	// cancel by id (liquidation, reduce-only trimming). code is the book's
	// reject of a single cancel (the order had already left the book).
	canceledMsg struct {
		sym    int
		code   book.RejectCode
		id     book.OrderID
		orders []book.CanceledOrder
		done   func(wire.OrderReply)
		quiet  bool          // done goes nowhere (cancelReq.quiet)
		all    *cancelAllReq // the cancel-all this answers a part of, if any
		// err, when set, answers a single cancel instead of code: its book
		// is out of service.
		err *wire.Error
		// unknown lists the ids of a first cancel by ids that were in
		// neither the book nor the trigger set; again echoes the cancel's.
		unknown  []book.OrderID
		again    bool
		bankrupt bool // the cancel's (cancelIDsMsg.bankrupt)
	}
	// markMsg is a new mark price of a symbol this account holds.
	markMsg struct {
		sym  int
		mark book.Ticks
	}
	// fundingMsg is a funding payment due at rate and mark; funded is the
	// funding time (symbolActor.funded).
	fundingMsg struct {
		sym    int
		rate   market.Rate
		mark   book.Ticks
		funded int64
	}
)

// From the fund actor.
type reservedMsg struct {
	amount market.Money
}

// From the ADL actor and from counterparties.
type (
	// adlCloseMsg asks this account (a counterparty) to close qty of its
	// position in sym at price, against the bankrupt account.
	adlCloseMsg struct {
		sym      int
		side     book.Side // side of the position to close
		qty      book.Lots
		price    book.Ticks
		bankrupt *actor.PID
		name     string // the bankrupt account
	}
	// adlPlanMsg tells a bankrupt account how many closes the ADL actor
	// sent for its leg in sym (each answers with an adlFilledMsg).
	adlPlanMsg struct {
		sym     int
		closes  int
		covered book.Lots
	}
	// adlFilledMsg is a counterparty's answer: qty of the requested close
	// was done at the bankruptcy price (less than asked when the ranking
	// was stale). acct is the counterparty, 0 when its liquidation's leg
	// closed (liq.Machine.CloseAgainst): such a close is no account's to
	// adjust (liq.AdjustClose). funded is the last funding time of sym
	// the counterparty had handled when it closed (acctSym.funded).
	adlFilledMsg struct {
		sym          int
		qty, asked   book.Lots
		counterparty string
		acct         book.AccountID
		funded       int64
	}
	// adlRetryMsg re-asks ADL after a pause; fast retries count as pending
	// work for quiescence.
	adlRetryMsg struct {
		sym   int
		res   fund.ReservationID // the liquidation's
		fast  bool
		timer uint64 // its id (durable mode)
	}
	// deadmanMsg is the dead man's switch timer of generation gen firing.
	deadmanMsg struct{ gen, timer uint64 }
)

// failedMsg tells an account actor its supervisor took it out of service
// (registry.go); it gives up what it held for others (failure.go).
type failedMsg struct{ reason string }
