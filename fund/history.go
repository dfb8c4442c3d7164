package fund

import (
	"slices"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/internal/ring"
	"github.com/perpx/perpx/market"
)

// Reason says why the fund's balance changed (FUNDEVENT "reason").
type Reason uint8

const (
	ReasonDeposit Reason = iota + 1
	ReasonLiquidationSurplus
	ReasonLiquidationFee
	ReasonLiquidationDeficit
	// ReasonFunding: a funding payment of a position a liquidation held,
	// which the fund paid or received; in histories of earlier versions
	// only (a leg's funding now joins its liquidation), still decoded.
	ReasonFunding
)

func (r Reason) String() string {
	switch r {
	case ReasonDeposit:
		return "deposit"
	case ReasonLiquidationSurplus:
		return "liquidation_surplus"
	case ReasonLiquidationFee:
		return "liquidation_fee"
	case ReasonLiquidationDeficit:
		return "liquidation_deficit"
	case ReasonFunding:
		return "funding"
	}
	return "invalid"
}

// Event is one change of one asset's balance: a FUNDEVENT on px.fund.events.
// Account and Symbol are zero for deposits.
type Event struct {
	Seq     uint64 // 1, 2, … over all assets; 0 means nothing was recorded
	TimeMs  int64
	Asset   string
	Delta   market.Money
	Balance market.Money // after the change
	Reason  Reason
	Account book.AccountID
	Symbol  string
}

// History appends the last n kept events (all kept ones if n ≤ 0), oldest
// first, to dst.
func (f *Fund) History(dst []Event, n int) []Event {
	if n <= 0 {
		n = f.hist.Len()
	}
	return f.hist.Newest(n, dst)
}

// Since appends the kept events with Seq > seq, oldest first: a subscriber's
// catch-up. If the ring has dropped some of them, the first returned Seq is
// above seq+1.
func (f *Fund) Since(seq uint64, dst []Event) []Event {
	kept := f.hist.Len()
	if kept == 0 || seq >= f.seq {
		return dst
	}
	first := f.hist.At(0).Seq
	skip := 0
	if seq >= first {
		skip = int(seq - first + 1)
	}
	for i := skip; i < kept; i++ {
		dst = append(dst, *f.hist.At(i))
	}
	return dst
}

// Resize applies new caps (0: the default) to a fund that has history, as
// a snapshot taken under other caps brings: the newest events and days stay.
func (f *Fund) Resize(cfg Config) error {
	g, err := New(cfg)
	if err != nil {
		return err
	}
	hist := ring.New[Event](g.cfg.HistoryCap)
	for _, e := range f.History(nil, g.cfg.HistoryCap) {
		hist.Push(e)
	}
	f.hist, f.cfg = hist, g.cfg
	for _, a := range f.assets {
		if n := len(a.days); n > f.cfg.DailyCap {
			a.days = slices.Delete(a.days, 0, n-f.cfg.DailyCap)
		}
	}
	return nil
}
