package market

import (
	"fmt"

	"github.com/perpx/perpx/book"
)

// MarkInput is one observation for a symbol's MarkState: the index price and
// the book's impact bid and ask prices (the average fill price of an
// impact-size market sell / buy; 0 when that side of the book is too thin),
// all in ticks, at NowMs (unix ms).
type MarkInput struct {
	Index     book.Ticks
	ImpactBid book.Ticks
	ImpactAsk book.Ticks
	NowMs     int64
}

// MarkUpdate is what a MarkState reports after an input.
type MarkUpdate struct {
	Index book.Ticks
	Mark  book.Ticks
	// Premium is the instantaneous premium index of this input.
	Premium Rate
	// FundingRate is the predicted rate of the interval in progress.
	FundingRate   Rate
	NextFundingMs int64
	// Due is true when this input crossed a funding time: DueRate must be
	// paid now (at Mark) for the interval that ended at DueMs.
	Due     bool
	DueRate Rate
	DueMs   int64
}

// MarkState computes one symbol's mark price and funding rate (formulas in
// doc.go). It is a pure value: no clock, no goroutine; time is the input's
// NowMs.
type MarkState struct {
	sym     *Symbol
	lastMs  int64
	nextMs  int64
	premium Rate  // premium index in force since lastMs
	premSum int64 // Σ premium × ms over the interval so far
	premMs  int64 // Σ ms over the interval so far
	last    MarkUpdate
}

// NewMarkState starts a MarkState at nowMs; the first funding time is the
// next multiple of the symbol's funding interval.
func NewMarkState(sym *Symbol, nowMs int64) *MarkState {
	m := &MarkState{sym: sym, lastMs: nowMs, nextMs: sym.nextFunding(nowMs)}
	m.last.NextFundingMs = m.nextMs
	return m
}

// nextFunding is the first multiple of the funding interval strictly after now.
func (s *Symbol) nextFunding(nowMs int64) int64 {
	iv := s.FundingIntervalMs
	n := nowMs / iv
	if nowMs < 0 && nowMs%iv != 0 {
		n--
	}
	return (n + 1) * iv
}

// Last returns the most recent update (zero prices before the first input).
func (m *MarkState) Last() MarkUpdate { return m.last }

// PremiumIndex is (max(0, bid − index) − max(0, index − ask)) / index as a
// Rate, truncated toward zero and clamped to ±100 %; an absent side (0)
// contributes nothing. index must be ≥ 1.
func PremiumIndex(index, impactBid, impactAsk book.Ticks) Rate {
	var diff int64
	if impactBid > index {
		diff += int64(impactBid - index)
	}
	if impactAsk > 0 && impactAsk < index {
		diff -= int64(index - impactAsk)
	}
	// |premium| ≤ 100 %: keeps premium × ms sums far from overflow.
	diff = min(max(diff, -int64(index)), int64(index))
	return Rate(MustMulDiv(diff, RateScale, int64(index), false))
}

// FundingRate is clamp(avgPremium + clamp(interest − avgPremium, ±PremiumClamp), ±FundingCap).
func (s *Symbol) FundingRate(avgPremium Rate) Rate {
	adj := min(max(s.InterestRate-avgPremium, -s.PremiumClamp), s.PremiumClamp)
	return min(max(avgPremium+adj, -s.FundingCap), s.FundingCap)
}

// MarkPrice is index + index × rate × (untilMs / interval) rounded toward
// zero, clamped to [1, MaxPrice]: a funding basis decaying linearly to zero
// at the funding time.
func (s *Symbol) MarkPrice(index book.Ticks, rate Rate, untilMs int64) book.Ticks {
	untilMs = min(max(untilMs, 0), s.FundingIntervalMs)
	frac := MustMulDiv(int64(rate), untilMs, s.FundingIntervalMs, false)
	basis := book.Ticks(MustMulDiv(int64(index), frac, RateScale, false))
	return min(max(index+basis, 1), s.MaxPrice)
}

// Update feeds one input. Errors (state unchanged): ErrIndex when the index
// is outside [1, MaxPrice] or an impact price is negative, ErrTimeBackwards
// when NowMs is before the previous input.
func (m *MarkState) Update(in MarkInput) (MarkUpdate, error) {
	s := m.sym
	if in.Index < 1 || in.Index > s.MaxPrice || in.ImpactBid < 0 || in.ImpactAsk < 0 {
		return MarkUpdate{}, fmt.Errorf("%w: index %d bid %d ask %d", ErrIndex, in.Index, in.ImpactBid, in.ImpactAsk)
	}
	if in.NowMs < m.lastMs {
		return MarkUpdate{}, fmt.Errorf("%w: %d < %d", ErrTimeBackwards, in.NowMs, m.lastMs)
	}
	u := MarkUpdate{Index: in.Index, Mark: in.Index}
	if !s.Funding {
		m.lastMs, m.nextMs = in.NowMs, s.nextFunding(in.NowMs)
		u.NextFundingMs = m.nextMs
		m.last = u
		return u, nil
	}
	if in.NowMs >= m.nextMs {
		// Close the interval with the premium in force until its end.
		m.accumulate(m.nextMs)
		u.Due, u.DueMs, u.DueRate = true, m.nextMs, s.FundingRate(m.average())
		// Intervals missed entirely are skipped: one payment per crossing.
		m.nextMs = s.nextFunding(in.NowMs)
		m.lastMs = m.nextMs - s.FundingIntervalMs
		m.premSum, m.premMs = 0, 0
	}
	m.accumulate(in.NowMs)
	m.premium = PremiumIndex(in.Index, in.ImpactBid, in.ImpactAsk)
	u.Premium = m.premium
	u.FundingRate = s.FundingRate(m.average())
	u.NextFundingMs = m.nextMs
	u.Mark = s.MarkPrice(in.Index, u.FundingRate, m.nextMs-in.NowMs)
	m.last = u
	return u, nil
}

// accumulate adds the premium in force from lastMs to t.
func (m *MarkState) accumulate(t int64) {
	if dt := t - m.lastMs; dt > 0 {
		m.premSum += int64(m.premium) * dt
		m.premMs += dt
	}
	m.lastMs = t
}

// average is the time-weighted premium over the interval so far, or the
// premium in force when no time has passed yet.
func (m *MarkState) average() Rate {
	if m.premMs == 0 {
		return m.premium
	}
	return Rate(m.premSum / m.premMs)
}
