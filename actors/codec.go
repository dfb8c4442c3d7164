package actors

// The journal's encoding of the messages that enter the exchange from
// outside its actors (requests, index ticks, timers): their records carry
// them whole. Messages between actors are not encoded: recovery recomputes
// them by running their senders (replay.go).

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// journaled reports whether handling m can change state: those messages
// are journaled, the rest (reads, probes, lifecycle) are not.
func journaled(m any) bool {
	switch m.(type) {
	case *placeReq, *cancelReq, *amendReq, *marginModeReq, *positionMarginReq, *withdrawReq, *cancelAllReq, *cancelAfterReq, *deadmanMsg, *leverageReq, *depositReq,
		*indexMsg, *fundDepositMsg, *adlRetryMsg,
		*makerFillMsg, *takerResultMsg, *canceledMsg, *markMsg, *fundingMsg, *reservedMsg, *adlCloseMsg,
		*adlPlanMsg, *adlFilledMsg, *socialMsg, *armedMsg, *triggeredMsg, *armMsg, *histTradesMsg, *histMarkMsg, *histFundingMsg, *histOIMsg,
		*placeMsg, *amendMsg, *cancelMsg, *cancelIDsMsg, *reserveMsg, *unsubscribeMsg,
		*settleMsg, *releaseMsg, *deficitMsg, *adlCountMsg,
		*adlPositionMsg, *adlReport, *adlMarkMsg, *deleverageMsg, *adlFlushMsg, *socializeMsg,
		*repostMsg, *failedMsg, *resumeMsg:
		return true
	}
	return false
}

// encodeInput appends an external message to p and returns its kind; a
// message only other actors send must not arrive without a sender.
func (x *Exchange) encodeInput(p []byte, m any) (uint16, []byte) {
	switch m := m.(type) {
	case *placeReq:
		r := &m.req
		m.mark = m.h.lastMark()
		p = binary.AppendUvarint(p, uint64(m.h.idx))
		p = appendStr(p, string(r.Side))
		p = appendStr(p, string(r.Type))
		p = appendDec(p, r.Price)
		p = appendDec(p, r.Qty)
		p = appendStr(p, string(r.TIF))
		// Bits 2-3: the book's STP mode (0, cancel_maker, in the records
		// of the releases before order.place had stp).
		p = append(p, flags(r.ReduceOnly, r.PostOnly)|byte(bookSTP(r.STP))<<2)
		p = appendStr(p, r.ClientOrderID)
		p = binary.AppendVarint(p, int64(m.mark))
		if r.Type.Conditional() { // a tail, so records written before it decode
			p = appendDec(p, r.TriggerPrice)
			p = appendStr(p, string(r.TriggerBy))
			p = appendDec(p, r.CallbackRate)
			p = appendDec(p, r.ActivationPrice)
			p = append(p, flags(r.ClosePosition, false))
		}
		return recPlace, p
	case *cancelReq:
		p = appendStr(p, m.req.Symbol)
		p = appendStr(p, m.req.OrderID)
		return recCancel, appendStr(p, m.req.ClientOrderID)
	case *amendReq:
		r := &m.req
		m.mark = m.h.lastMark()
		p = binary.AppendUvarint(p, uint64(m.h.idx))
		p = appendStr(p, r.OrderID)
		p = appendStr(p, r.ClientOrderID)
		p = appendDec(p, r.Price)
		p = appendDec(p, r.Qty)
		p = binary.AppendVarint(p, int64(m.mark))
		return recAmend, appendDec(p, r.TriggerPrice)
	case *cancelAllReq:
		return recCancelAll, appendSym(p, m.h)
	case *cancelAfterReq:
		return recCancelAfter, binary.AppendVarint(p, int64(m.req.TimeoutMs))
	case *deadmanMsg:
		p = binary.AppendUvarint(p, m.gen)
		return recDeadman, binary.AppendUvarint(p, m.timer)
	case *leverageReq:
		if h := x.symbol(m.req.Symbol); h != nil {
			m.mark = h.lastMark()
		}
		p = appendStr(p, m.req.Symbol)
		p = appendDec(p, m.req.Leverage)
		return recLeverage, binary.AppendVarint(p, int64(m.mark))
	case *depositReq:
		return recDeposit, appendAsset(binary.AppendVarint(p, int64(m.amount)), m.asset)
	case *marginModeReq:
		p = binary.AppendUvarint(p, uint64(m.h.idx))
		return recMarginMode, append(p, flags(m.isolated, false))
	case *positionMarginReq:
		p = binary.AppendUvarint(p, uint64(m.h.idx))
		return recPositionMargin, binary.AppendVarint(p, int64(m.delta))
	case *withdrawReq:
		return recWithdraw, appendAsset(binary.AppendVarint(p, int64(m.amount)), m.asset)
	case *indexMsg:
		return recIndex, binary.AppendVarint(p, int64(m.index))
	case *fundDepositMsg:
		return recFundDeposit, appendAsset(binary.AppendVarint(p, int64(m.amount)), m.asset)
	case *adlRetryMsg:
		p = binary.AppendUvarint(p, uint64(m.sym))
		p = binary.AppendUvarint(p, uint64(m.res))
		p = append(p, flags(m.fast, false))
		return recADLRetry, binary.AppendUvarint(p, m.timer)
	case *repostMsg:
		return recRepost, p
	case *failedMsg:
		return recFailedNotice, appendStr(p, m.reason)
	case *resumeMsg:
		return recResume, p
	}
	panic(fmt.Sprintf("actors: %T reached an actor from outside, and the journal cannot hold it", m))
}

// errPayload: a record's payload does not decode.
var errPayload = errors.New("payload does not decode")

// decodeInput rebuilds an external message from its record; its done
// callbacks do nothing (the client's reply was sent, or never will be).
// Recovery's goroutine alone calls it.
func (x *Exchange) decodeInput(kind uint16, p []byte) (any, error) {
	d := &payload{p: p}
	var m any
	switch kind {
	case recPlace:
		h := d.sym(x, false)
		var r wire.PlaceOrder
		if h != nil {
			r.Symbol = h.sym.Name
		}
		r.Side, r.Type = known(d, wire.Buy, wire.Sell), known(d, wire.Limit, wire.Market)
		r.Price, r.Qty = d.decCached(&x.rec.decs), d.decCached(&x.rec.decs)
		r.TIF = known(d, wire.GTC, wire.IOC, wire.FOK)
		f := d.byte()
		r.ReduceOnly, r.PostOnly = flagsOf(f)
		r.STP = wireSTP(book.STPMode(f >> 2 & 3))
		r.ClientOrderID = d.str()
		mark := book.Ticks(d.varint())
		if r.Type.Conditional() {
			r.TriggerPrice = d.dec()
			r.TriggerBy = wire.TriggerBy(d.str())
			r.CallbackRate, r.ActivationPrice = d.dec(), d.dec()
			r.ClosePosition, _ = d.flags()
		}
		pr := newPlaceReq(r, h, func(wire.OrderReply) {})
		pr.mark, pr.quiet = mark, true
		m = pr
	case recAmend:
		h := d.sym(x, false)
		var r wire.Amend
		if h != nil {
			r.Symbol = h.sym.Name
		}
		r.OrderID, r.ClientOrderID = d.str(), d.str()
		r.Price, r.Qty = d.dec(), d.dec()
		mark := book.Ticks(d.varint())
		r.TriggerPrice = d.dec()
		m = &amendReq{req: r, h: h, done: func(wire.OrderReply) {}, mark: mark}
	case recCancel:
		m = &cancelReq{req: wire.Cancel{Symbol: d.symName(x), OrderID: d.str(), ClientOrderID: d.str()}, done: func(wire.OrderReply) {}, quiet: true}
	case recCancelAll:
		m = &cancelAllReq{h: d.sym(x, true), done: func(wire.CancelAllReply) {}}
	case recCancelAfter:
		m = &cancelAfterReq{req: wire.CancelAllAfter{TimeoutMs: int(d.varint())}, done: func(wire.CancelAllAfterReply) {}}
	case recDeadman:
		m = &deadmanMsg{gen: d.uvarint(), timer: d.uvarint()}
	case recLeverage:
		m = &leverageReq{req: wire.Leverage{Symbol: d.symName(x), Leverage: d.dec()}, done: func(wire.LeverageReply) {}, mark: book.Ticks(d.varint())}
	case recDeposit:
		m = &depositReq{amount: market.Money(d.varint()), asset: d.asset(x), done: func(wire.BalanceReply) {}}
	case recMarginMode:
		r := &marginModeReq{h: d.sym(x, false), done: func(wire.MarginModeReply) {}}
		r.isolated, _ = d.flags()
		m = r
	case recPositionMargin:
		m = &positionMarginReq{h: d.sym(x, false), delta: market.Money(d.varint()), done: func(wire.PositionMarginReply) {}}
	case recWithdraw:
		m = &withdrawReq{amount: market.Money(d.varint()), asset: d.asset(x), done: func(wire.BalanceReply) {}}
	case recIndex:
		m = &indexMsg{index: book.Ticks(d.varint()), done: func(wire.IndexReply) {}}
	case recFundDeposit:
		m = &fundDepositMsg{amount: market.Money(d.varint()), asset: d.asset(x), done: func(wire.BalanceReply) {}}
	case recADLRetry:
		sym := int(d.uvarint())
		res := fund.ReservationID(d.uvarint())
		fast, _ := d.flags()
		m = &adlRetryMsg{sym: sym, res: res, fast: fast, timer: d.uvarint()}
	case recFailed:
		m = &failureRec{seq: d.uvarint(), reason: d.str()}
	case recRepost:
		m = &repostMsg{} // the message comes from the failure (replayer.exec)
	case recFailedNotice:
		m = &failedMsg{reason: d.str()}
	case recResume:
		m = &resumeMsg{done: func(wire.ResumeReply) {}}
	default:
		return nil, fmt.Errorf("%w: unknown record kind %d", errPayload, kind)
	}
	if d.err != nil || len(d.p) != 0 {
		return nil, fmt.Errorf("%w: %T (%d bytes left, %v)", errPayload, m, len(d.p), d.err)
	}
	return m, nil
}

// appendAsset ends a money record with its asset's index, left out for
// the primary asset (0): records from before wallets read the same.
func appendAsset(p []byte, asset int) []byte {
	if asset == 0 {
		return p
	}
	return binary.AppendUvarint(p, uint64(asset))
}

// asset reads what appendAsset wrote at the end of a record.
func (d *payload) asset(x *Exchange) int {
	if len(d.p) == 0 {
		return 0
	}
	i := d.uvarint()
	if i == 0 || i >= uint64(len(x.assets)) {
		d.fail("asset")
		return 0
	}
	return int(i)
}

func flags(a, b bool) byte {
	var f byte
	if a {
		f |= 1
	}
	if b {
		f |= 2
	}
	return f
}

func appendStr(p []byte, s string) []byte {
	return append(binary.AppendUvarint(p, uint64(len(s))), s...)
}

// appendSym appends a symbol filter: 0 for every symbol, else index+1.
func appendSym(p []byte, h *symbolHandle) []byte {
	if h == nil {
		return append(p, 0)
	}
	return binary.AppendUvarint(p, uint64(h.idx)+1)
}

// appendDec appends a decimal as coefficient and exponent when the
// coefficient fits 63 bits (every real order), else as text.
func appendDec(p []byte, v decimal.Decimal) []byte {
	// Up to 18 digits always fit: no copy of the coefficient (Coefficient
	// allocates one), which every place's price and quantity would cost.
	if n := v.NumDigits(); n <= 18 || n == 19 && v.Coefficient().IsInt64() {
		p = append(p, 0)
		p = binary.AppendVarint(p, v.CoefficientInt64())
		return binary.AppendVarint(p, int64(v.Exponent()))
	}
	return appendStr(append(p, 1), v.String())
}

// payload reads a record's payload; the first error sticks.
type payload struct {
	p   []byte
	err error
}

func (d *payload) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", errPayload, what)
	}
	d.p = nil
}

func (d *payload) uvarint() uint64 {
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *payload) varint() int64 {
	v, n := binary.Varint(d.p)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *payload) byte() byte {
	if len(d.p) == 0 {
		d.fail("byte")
		return 0
	}
	b := d.p[0]
	d.p = d.p[1:]
	return b
}

func (d *payload) flags() (a, b bool) { return flagsOf(d.byte()) }

// flagsOf reads the two booleans flags wrote.
func flagsOf(f byte) (a, b bool) { return f&1 != 0, f&2 != 0 }

func (d *payload) str() string { return string(d.bytes()) }

// bytes reads a string's bytes, without copying them.
func (d *payload) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("string")
		return nil
	}
	b := d.p[:n]
	d.p = d.p[n:]
	return b
}

// symName reads a string a request names its symbol with: the symbol's
// own name when it is one, so a replayed cancel allocates no copy (the map
// lookup does not copy the bytes); a copy otherwise.
func (d *payload) symName(x *Exchange) string {
	b := d.bytes()
	if h, ok := x.bySym[string(b)]; ok {
		return h.sym.Name
	}
	return string(b)
}

func (d *payload) dec() decimal.Decimal {
	switch d.byte() {
	case 0:
		c, e := d.varint(), d.varint()
		if e < -1<<31 || e > 1<<31-1 {
			d.fail("exponent")
			return decimal.Zero
		}
		return decimal.New(c, int32(e))
	case 1:
		v, err := decimal.NewFromString(d.str())
		if err != nil {
			d.fail("decimal")
		}
		return v
	}
	d.fail("decimal tag")
	return decimal.Zero
}

// known reads a string, without allocating when it is one of vs (the
// enums' common values: one allocation each for side, type and TIF was a
// tenth of replaying a place).
func known[T ~string](d *payload, vs ...T) T {
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("string")
		return ""
	}
	b := d.p[:n]
	d.p = d.p[n:]
	for _, v := range vs {
		if string(b) == string(v) {
			return v
		}
	}
	return T(b)
}

// decCache keeps the decimals decoded lately, by coefficient and
// exponent: a replay's prices and quantities repeat, and a decimal is
// immutable, so they are shared rather than built (a big.Int each) again.
type decCache [256]struct {
	c  int64
	e  int64
	ok bool
	d  decimal.Decimal
}

// decCached is dec through c.
func (d *payload) decCached(c *decCache) decimal.Decimal {
	if len(d.p) == 0 || d.p[0] != 0 {
		return d.dec()
	}
	d.p = d.p[1:]
	co, e := d.varint(), d.varint()
	if e < -1<<31 || e > 1<<31-1 {
		d.fail("exponent")
		return decimal.Zero
	}
	h := uint64(co)*0x9E3779B97F4A7C15 ^ uint64(e)*0xC2B2AE3D27D4EB4F
	s := &c[h>>56]
	if !s.ok || s.c != co || s.e != e {
		s.c, s.e, s.ok, s.d = co, e, true, decimal.New(co, int32(e))
	}
	return s.d
}

// sym reads a symbol index (a filter when optional: 0 is every symbol).
func (d *payload) sym(x *Exchange, optional bool) *symbolHandle {
	i := d.uvarint()
	if optional {
		if i == 0 {
			return nil
		}
		i--
	}
	if i >= uint64(len(x.symbols)) {
		d.fail("symbol")
		return nil
	}
	return x.symbols[i]
}
