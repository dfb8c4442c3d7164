package adl

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// QueueEntry is one line of px.adl.<sym>.queue.
type QueueEntry struct {
	Rank     int // 1 = the first to be deleveraged
	Account  book.AccountID
	Qty      book.Lots
	PnL      market.Money // unrealized, at the mark
	Score    float64      // the ranking value
	Leverage float64      // effective leverage at the mark
}

// Top appends the first n positions of a side's queue (the positions closed
// when the other side has a bankrupt position), in exact rank order at the
// current mark. It costs O((n + streams) log n) tree steps, not O(count).
func (rk *Ranking) Top(side book.Side, n int, dst []QueueEntry) ([]QueueEntry, error) {
	switch {
	case !validSide(side):
		return dst, ErrInvalidSide
	case rk.mark == 0:
		return dst, ErrNoMark
	}
	start := len(dst)
	rk.m.begin(side)
	for len(dst)-start < n {
		it, _, ok := rk.m.next()
		if !ok {
			break
		}
		info, ok := rk.info(rk.rec(it))
		if !ok {
			return dst[:start], ErrOverflow
		}
		dst = append(dst, QueueEntry{Rank: len(dst) - start + 1, Account: info.Account, Qty: info.Qty,
			PnL: info.PnL, Score: info.Score, Leverage: info.Leverage})
	}
	return dst, nil
}
