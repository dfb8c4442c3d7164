package actors

import (
	"math"
	"math/bits"
	"sync/atomic"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// Conversions between the wire schemas and the cores' integer types. They
// translate; they decide nothing.

// wireError is what a core's refusal becomes on the wire.
type wireError struct {
	code wire.Code
	msg  string
}

// riskErrors translates every risk.Code (TestErrorTablesCoverEveryCode).
// A code that no client request can get from risk (the account actor only
// passes on PreTrade's and SetLeverage's refusals) maps to INTERNAL: if one
// ever reaches a client, the exchange called risk wrongly, not the client.
// OK is no refusal at all, so it is such a bug too.
var riskErrors = [...]wireError{
	risk.OK:                   {wire.CodeInternal, "refused without a reason"},
	risk.BadRequest:           {wire.CodeBadRequest, "the request is malformed, or the account already uses the most symbols allowed"},
	risk.UnknownSymbol:        {wire.CodeUnknownSymbol, "unknown symbol"},
	risk.InvalidPrice:         {wire.CodeInvalidPrice, "the price is outside the price band"},
	risk.NoMarkPrice:          {wire.CodeInvalidPrice, "the symbol has no mark price yet"},
	risk.InvalidQty:           {wire.CodeInvalidQty, "the quantity, or the position it could make, is over the symbol's limit"},
	risk.MinNotional:          {wire.CodeMinNotional, "the order's notional is below the symbol's minimum"},
	risk.InsufficientMargin:   {wire.CodeInsufficientMargin, "not enough available margin"},
	risk.ReduceOnlyRejected:   {wire.CodeReduceOnlyRejected, "the reduce-only order could increase the position"},
	risk.LeverageTooHigh:      {wire.CodeLeverageTooHigh, "the leverage is over the symbol's maximum or its tier's at this size"},
	risk.AccountInLiquidation: {wire.CodeAccountInLiquidation, "the account is being liquidated"},
	risk.UnknownOrder:         {wire.CodeUnknownOrder, "the order is not open"},
	risk.TooManyOrders:        {wire.CodeTooManyOrders, "the account already holds the most open orders allowed in this symbol"},
	// SetMarginMode's refusal: no request changes a margin mode (the
	// config's margin_mode applies to every position).
	risk.PositionOpen: {wire.CodeInternal, "the margin mode cannot change while a position or order is open"},
	// Isolated-margin moves, fills, ADL closes and socialized charges:
	// the exchange's own calls, never a client's.
	risk.NoPosition: {wire.CodeInternal, "no position in the symbol"},
	// StartLiquidation's: the account actor's own decision.
	risk.NotLiquidatable:     {wire.CodeInternal, "the position is not liquidatable"},
	risk.Internal:            {wire.CodeInternal, "the account cannot account for a fill or close"},
	risk.ChargeExceedsProfit: {wire.CodeInternal, "a socialized charge exceeds the position's profit"},
}

// bookErrors translates every book.RejectCode
// (TestErrorTablesCoverEveryCode); OK is no refusal (a bug, as above).
var bookErrors = [...]wireError{
	book.OK:                      {wire.CodeInternal, "refused without a reason"},
	book.RejectBadRequest:        {wire.CodeBadRequest, "bad request"},
	book.RejectInvalidPrice:      {wire.CodeInvalidPrice, "invalid price"},
	book.RejectInvalidQty:        {wire.CodeInvalidQty, "invalid quantity"},
	book.RejectPostOnlyWouldTake: {wire.CodePostOnlyWouldTake, "the post-only order would take liquidity"},
	book.RejectFOKNotFilled:      {wire.CodeFOKNotFilled, "the fill-or-kill order could not fill completely"},
	book.RejectUnknownOrder:      {wire.CodeUnknownOrder, "the order is no longer open"},
	// Order ids are the exchange's (one counter), so a duplicate is its bug.
	book.RejectDuplicateOrderID: {wire.CodeInternal, "duplicate order id"},
}

// riskError is c's wire error; a code missing from riskErrors is INTERNAL.
func riskError(c risk.Code) *wire.Error {
	if int(c) < len(riskErrors) && riskErrors[c].code != "" {
		return riskErrors[c].err()
	}
	return wire.Errorf(wire.CodeInternal, "unexpected risk code %s", c)
}

// bookError is c's wire error; a code missing from bookErrors is INTERNAL.
func bookError(c book.RejectCode) *wire.Error {
	if int(c) < len(bookErrors) && bookErrors[c].code != "" {
		return bookErrors[c].err()
	}
	return wire.Errorf(wire.CodeInternal, "unexpected book reject %s", c)
}

func (e wireError) err() *wire.Error { return &wire.Error{Code: e.code, Message: e.msg} }

func bookSide(s wire.Side) book.Side {
	if s == wire.Sell {
		return book.Sell
	}
	return book.Buy
}

func wireSide(s book.Side) wire.Side {
	if s == book.Sell {
		return wire.Sell
	}
	return wire.Buy
}

func posSide(qty book.Lots) wire.PosSide {
	if qty < 0 {
		return wire.Short
	}
	return wire.Long
}

func bookTIF(t wire.TIF) book.TIF {
	switch t {
	case wire.IOC:
		return book.IOC
	case wire.FOK:
		return book.FOK
	}
	return book.GTC
}

func wireTIF(t book.TIF) wire.TIF {
	switch t {
	case book.IOC:
		return wire.IOC
	case book.FOK:
		return wire.FOK
	}
	return wire.GTC
}

func wireStatus(s book.Status) wire.Status {
	switch s {
	case book.StatusPartiallyFilled:
		return wire.StatusPartiallyFilled
	case book.StatusFilled:
		return wire.StatusFilled
	case book.StatusCanceled:
		return wire.StatusCanceled
	case book.StatusRejected:
		return wire.StatusRejected
	case book.StatusExpired:
		return wire.StatusExpired
	}
	return wire.StatusNew
}

func terminal(s wire.Status) bool {
	return s != wire.StatusNew && s != wire.StatusPartiallyFilled
}

func abs[T ~int64](v T) T {
	if v < 0 {
		return -v
	}
	return v
}

// priceToNearestTick converts an index price (which need not be a tick
// multiple) to the nearest tick in [1, MaxPrice].
func priceToNearestTick(s *market.Symbol, d decimal.Decimal) (book.Ticks, bool) {
	if d.Sign() <= 0 {
		return 0, false
	}
	t := d.Div(s.TickSize).Round(0)
	if !t.IsInteger() || t.GreaterThan(decimal.NewFromInt(int64(s.MaxPrice))) {
		return 0, false
	}
	v := t.IntPart()
	if v < 1 {
		v = 1
	}
	return book.Ticks(v), true
}

func levels(h *symbolHandle, ls []book.Level) []wire.Level {
	out := make([]wire.Level, len(ls))
	for i, l := range ls {
		out[i] = wire.NewLevel(h.price(l.Price), h.qty(l.Qty))
	}
	return out
}

// Integer fast paths of the symbol's decimal conversions. A tick or lot
// size is a coefficient × 10^exp; the market package's conversions go
// through math/big (Mul, QuoRem, DivRound), which on the order path cost
// more than the risk check and the match together. The fast paths below
// compute the same values with int64 arithmetic and fall back to the market
// package whenever an operand does not fit, so market stays the one place
// that decides (and words) a refusal: a fast path only ever answers when
// market.Symbol would answer the same value.

// decUnit is a tick or lot size as coefficient × 10^exp.
type decUnit struct {
	coef int64
	exp  int32
	ok   bool // the coefficient fits in an int64 (always, for compiled symbols)
}

func newDecUnit(d decimal.Decimal) decUnit {
	if d.NumDigits() > 18 || d.Sign() <= 0 {
		return decUnit{}
	}
	return decUnit{coef: d.CoefficientInt64(), exp: d.Exponent(), ok: true}
}

// pow10 holds 10^0 … 10^18.
var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// mul64 returns a×b when it fits in an int64 (a, b ≥ 0).
func mul64(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// dec returns n units as a decimal: coefficient n×coef at the unit's
// exponent, exactly what market's Price/Qty (unit.Mul(n)) build.
func (u decUnit) dec(n int64) (decimal.Decimal, bool) {
	if !u.ok {
		return decimal.Decimal{}, false
	}
	c, ok := mul64(abs(n), u.coef)
	if !ok {
		return decimal.Decimal{}, false
	}
	if n < 0 {
		c = -c
	}
	return decimal.New(c, u.exp), true
}

// count returns d / unit when d is a positive whole number of units of at
// most max; ok is false in every other case (not a multiple, out of range,
// or an operand too large for the fast path).
func (u decUnit) count(d decimal.Decimal, max int64) (int64, bool) {
	if !u.ok || d.Sign() <= 0 || d.NumDigits() > 18 {
		return 0, false
	}
	c, e := d.CoefficientInt64(), d.Exponent()
	if e < -36 || e > 36 { // market's minExponent; and no absurd shifts
		return 0, false
	}
	var n int64
	if k := int(e) - int(u.exp); k >= 0 { // d = c×10^k units of 10^u.exp
		if k >= len(pow10) {
			return 0, false
		}
		v, ok := mul64(c, pow10[k])
		if !ok || v%u.coef != 0 {
			return 0, false
		}
		n = v / u.coef
	} else { // the unit is c' × 10^-k of d's digits
		if -k >= len(pow10) {
			return 0, false
		}
		div, ok := mul64(u.coef, pow10[-k])
		if !ok || c%div != 0 {
			return 0, false
		}
		n = c / div
	}
	if n < 1 || n > max {
		return 0, false
	}
	return n, true
}

// conv holds a symbol's tick and lot sizes for the fast paths, and caches
// of the decimals built from them. A decimal.Decimal is immutable (every
// operation returns a new one), so one value can be shared by every actor
// and every event and reply that shows it.
type conv struct {
	tick, lot decUnit
	// lots[n] is n lots for the small quantities most orders have.
	lots []decimal.Decimal
	// ticks caches prices by tick, direct-mapped: trades, depth and fills
	// happen at a few prices near the mark.
	ticks *[tickCacheSize]atomic.Pointer[tickDec]
	// avgs caches average prices by coefficient, direct-mapped: most
	// orders fill at one price, near the mark, so their averages repeat.
	avgs *[tickCacheSize]atomic.Pointer[avgDec]
}

// smallLots is how many quantities conv.lots holds per symbol.
const smallLots = 1024

// tickCacheSize is the number of entries of conv.ticks (a power of two).
const (
	tickCacheBits = 12
	tickCacheSize = 1 << tickCacheBits
)

type tickDec struct {
	t book.Ticks
	d decimal.Decimal
}

type avgDec struct {
	coef int64
	d    decimal.Decimal
}

func newConv(s *market.Symbol) conv {
	c := conv{tick: newDecUnit(s.TickSize), lot: newDecUnit(s.LotSize), ticks: new([tickCacheSize]atomic.Pointer[tickDec]),
		avgs: new([tickCacheSize]atomic.Pointer[avgDec])}
	if c.lot.ok {
		c.lots = make([]decimal.Decimal, smallLots)
		for n := range c.lots {
			c.lots[n], _ = c.lot.dec(int64(n))
		}
	}
	return c
}

// price is s.Price(t).
func (h *symbolHandle) price(t book.Ticks) decimal.Decimal {
	e := &h.conv.ticks[uint64(t)&(tickCacheSize-1)]
	if c := e.Load(); c != nil && c.t == t {
		return c.d
	}
	d, ok := h.conv.tick.dec(int64(t))
	if !ok {
		return h.sym.Price(t)
	}
	e.Store(&tickDec{t: t, d: d})
	return d
}

// qty is s.Qty(l).
func (h *symbolHandle) qty(l book.Lots) decimal.Decimal {
	if l >= 0 && int64(l) < int64(len(h.conv.lots)) {
		return h.conv.lots[l]
	}
	if d, ok := h.conv.lot.dec(int64(l)); ok {
		return d
	}
	return h.sym.Qty(l)
}

// toTicks is s.PriceToTicks(d).
func (h *symbolHandle) toTicks(d decimal.Decimal) (book.Ticks, error) {
	if n, ok := h.conv.tick.count(d, int64(h.sym.MaxPrice)); ok {
		return book.Ticks(n), nil
	}
	return h.sym.PriceToTicks(d)
}

// toLots is s.QtyToLots(d).
func (h *symbolHandle) toLots(d decimal.Decimal) (book.Lots, error) {
	if n, ok := h.conv.lot.count(d, int64(h.sym.MaxQty)); ok {
		return book.Lots(n), nil
	}
	return h.sym.QtyToLots(d)
}

// priceOf is s.PriceOf(v, q): |v| / (|q| × lot), rounded half away from
// zero to 8 decimals beyond the tick's. In integers, at exponent −P with
// P = 8 − tick.exp: round(|v|·10^(−tick.exp − lot.exp) / (|q|·lot.coef)),
// v being in units of 10^−8.
func (h *symbolHandle) priceOf(v market.Money, q book.Lots) decimal.Decimal {
	if q == 0 {
		return decimal.Zero
	}
	c, ok := h.conv.avgCoef(int64(abs(v)), int64(abs(q)))
	if !ok {
		return h.sym.PriceOf(v, q)
	}
	// Fibonacci hashing: the coefficients' low bits are mostly zeros.
	e := &h.conv.avgs[(uint64(c)*0x9E3779B97F4A7C15)>>(64-tickCacheBits)]
	if a := e.Load(); a != nil && a.coef == c {
		return a.d
	}
	d := decimal.New(c, h.conv.tick.exp-market.MoneyDecimals)
	e.Store(&avgDec{coef: c, d: d})
	return d
}

// avgCoef is priceOf's coefficient, at exponent tick.exp − 8.
func (c conv) avgCoef(v, q int64) (int64, bool) {
	if !c.tick.ok || !c.lot.ok || v < 0 || q <= 0 {
		return 0, false
	}
	den, ok := mul64(q, c.lot.coef)
	if !ok {
		return 0, false
	}
	k := -int(c.tick.exp) - int(c.lot.exp)
	if k < 0 {
		if -k >= len(pow10) {
			return 0, false
		}
		if den, ok = mul64(den, pow10[-k]); !ok {
			return 0, false
		}
		k = 0
	}
	if k >= len(pow10) {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(v), uint64(pow10[k]))
	if hi >= uint64(den) {
		return 0, false
	}
	quo, rem := bits.Div64(hi, lo, uint64(den))
	if rem >= uint64(den)-rem { // 2·rem ≥ den: half away from zero
		quo++
	}
	if quo > math.MaxInt64 {
		return 0, false
	}
	return int64(quo), true
}
