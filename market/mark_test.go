package market

import (
	"errors"
	"testing"

	"github.com/perpx/perpx/book"
)

const hour = 3_600_000

func TestPremiumIndex(t *testing.T) {
	cases := []struct {
		index, bid, ask book.Ticks
		want            Rate
	}{
		{300_000, 300_000, 300_000, 0},
		{300_000, 300_300, 300_600, 100_000},  // bid 0.1 % over: +0.001
		{300_000, 299_000, 299_700, -100_000}, // ask 0.1 % under: −0.001
		{300_000, 299_000, 301_000, 0},        // index inside the spread
		{300_000, 0, 0, 0},                    // empty book
		{300_000, 0, 299_400, -200_000},       // bid side empty
		{100, 1_000_000, 0, RateScale},        // clamped to +100 %
		{3, 4, 0, 33_333_333},                 // truncated toward zero
		{3, 0, 2, -33_333_333},
	}
	for _, c := range cases {
		if got := PremiumIndex(c.index, c.bid, c.ask); got != c.want {
			t.Errorf("PremiumIndex(%d,%d,%d) = %d, want %d", c.index, c.bid, c.ask, got, c.want)
		}
	}
}

func TestFundingRateFormula(t *testing.T) {
	s := DemoSymbols()[0] // interest 0.0001, clamp 0.0005, cap 0.00375
	cases := []struct{ avg, want Rate }{
		{0, 10_000},              // premium 0: the interest rate
		{40_000, 10_000},         // within ±clamp of interest: interest
		{-40_000, 10_000},        // −0.0004 + clamp(0.0005) = 0.0001
		{200_000, 150_000},       // 0.002 − 0.0005
		{-200_000, -150_000},     // −0.002 + 0.0005
		{1_000_000, 375_000},     // capped
		{-1_000_000, -375_000},   // floored
		{60_000, 10_000},         // 0.0006 − 0.0005
		{70_000, 20_000},         // 0.0007 − 0.0005
		{-RateScale, -375_000},   // extreme
		{RateScale / 2, 375_000}, // extreme
	}
	for _, c := range cases {
		if got := s.FundingRate(c.avg); got != c.want {
			t.Errorf("FundingRate(%d) = %d, want %d", c.avg, got, c.want)
		}
	}
}

func TestMarkStateDecayAndFunding(t *testing.T) {
	s := DemoSymbols()[0]
	m := NewMarkState(s, 0)
	flat := func(now int64, idx book.Ticks) MarkUpdate {
		u, err := m.Update(MarkInput{Index: idx, ImpactBid: idx, ImpactAsk: idx, NowMs: now})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	// Premium 0: rate = interest 0.0001; basis = 300000 × 0.0001 × remaining/8h.
	for _, c := range []struct {
		now  int64
		mark book.Ticks
	}{{0, 300_030}, {2 * hour, 300_022}, {4 * hour, 300_015}, {8*hour - 1, 300_000}} {
		u := flat(c.now, 300_000)
		if u.Mark != c.mark || u.FundingRate != 10_000 || u.NextFundingMs != 8*hour || u.Due {
			t.Errorf("t=%d: %+v, want mark %d", c.now, u, c.mark)
		}
	}
	u := flat(8*hour, 300_000)
	if !u.Due || u.DueRate != 10_000 || u.DueMs != 8*hour || u.NextFundingMs != 16*hour || u.Mark != 300_030 {
		t.Errorf("at funding time: %+v", u)
	}

	// Second interval: bid 1 % over index for 4 h, then flat: time-weighted
	// average premium 0.5 % → rate capped at 0.375 %.
	if _, err := m.Update(MarkInput{Index: 300_000, ImpactBid: 303_000, ImpactAsk: 303_300, NowMs: 8 * hour}); err != nil {
		t.Fatal(err)
	}
	u = flat(12*hour, 300_000) // average so far = 1 % (4 h at 1 %)
	if u.FundingRate != 375_000 || u.Premium != 0 {
		t.Errorf("mid interval: %+v", u)
	}
	// mark = 300000 + 300000 × 0.00375 × 4/8 = 300000 + 562.5 → 300562
	if u.Mark != 300_562 {
		t.Errorf("mark %d", u.Mark)
	}
	u = flat(16*hour, 300_000)
	if !u.Due || u.DueRate != 375_000 {
		t.Errorf("second funding: %+v", u)
	}

	// 0.2 % for 2 h then 0 for 6 h: average 0.05 % → interest.
	if _, err := m.Update(MarkInput{Index: 300_000, ImpactBid: 300_600, NowMs: 16 * hour}); err != nil {
		t.Fatal(err)
	}
	flat(18*hour, 300_000)
	// A gap of two whole intervals: one payment, intervals skipped.
	u = flat(41*hour, 300_000)
	if !u.Due || u.DueMs != 24*hour || u.NextFundingMs != 48*hour {
		t.Errorf("after gap: %+v", u)
	}
	if u.DueRate != 10_000 {
		t.Errorf("gap due rate %d", u.DueRate)
	}
}

func TestMarkStateNegativeBasisAndErrors(t *testing.T) {
	s := DemoSymbols()[1]
	m := NewMarkState(s, 1000)
	u, err := m.Update(MarkInput{Index: 300_000, ImpactBid: 297_000, ImpactAsk: 298_500, NowMs: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// premium −0.5 % → rate floored at −0.375 %; mark below index.
	if u.FundingRate != -375_000 || u.Mark >= u.Index {
		t.Errorf("%+v", u)
	}
	before := m.Last()
	if _, err := m.Update(MarkInput{Index: 300_000, NowMs: 999}); !errors.Is(err, ErrTimeBackwards) {
		t.Errorf("backwards: %v", err)
	}
	for _, in := range []MarkInput{
		{Index: 0, NowMs: 2000}, {Index: s.MaxPrice + 1, NowMs: 2000}, {Index: 10, ImpactBid: -1, NowMs: 2000},
	} {
		if _, err := m.Update(in); !errors.Is(err, ErrIndex) {
			t.Errorf("%+v: %v", in, err)
		}
	}
	if m.Last() != before {
		t.Errorf("state changed by bad input")
	}
	// Mark clamps at the bounds.
	if got := s.MarkPrice(1, -375_000, 8*hour); got != 1 {
		t.Errorf("clamp low %d", got)
	}
	if got := s.MarkPrice(s.MaxPrice, 375_000, 8*hour); got != s.MaxPrice {
		t.Errorf("clamp high %d", got)
	}
}

func TestMarkStateFundingOff(t *testing.T) {
	off := false
	s, err := SymbolConfig{Symbol: "OFF", Funding: &off}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	m := NewMarkState(s, 0)
	for _, now := range []int64{0, 8 * hour, 9 * hour} {
		u, err := m.Update(MarkInput{Index: 500, ImpactBid: 600, NowMs: now})
		if err != nil {
			t.Fatal(err)
		}
		if u.Mark != 500 || u.FundingRate != 0 || u.Due {
			t.Errorf("funding off at %d: %+v", now, u)
		}
	}
}
