package adl

import (
	"math/bits"
	"slices"

	"github.com/perpx/perpx/book"
)

// The ADL indicator (the five lights): a position at 0-based rank p among
// n on its side shows 5 − floor(5p/n), so the top fifth shows 5 and the
// bottom fifth 1. Exact ranks need every score at the mark, so a side keeps
// the four quintile cut positions, recomputed by an O(n) pass (scores +
// quickselect) at most every Config.IndicatorRefreshMs; a query then scores
// one position and compares it with four cuts, O(1). Between refreshes a
// light can lag the mark like the exchanges' periodically refreshed lights.

// scored is a position's (score, account) pair, totally ordered by better.
type scored struct {
	v    float64
	acct book.AccountID
}

func better(a, b scored) bool {
	if a.v != b.v {
		return a.v > b.v
	}
	return a.acct < b.acct
}

// cuts are one side's quintile cuts: cut[j] is the item at rank
// ceil((j+1)·n/5), for the ones below n.
type cuts struct {
	valid bool
	atMs  int64
	n     int
	ncut  int
	cut   [4]scored
}

// Indicator returns the account's ADL light, 1 (last) to 5 (first in line),
// refreshing its side's cuts when they are older than IndicatorRefreshMs.
func (rk *Ranking) Indicator(acct book.AccountID, nowMs int64) (int, error) {
	idx, ok := rk.index.get(acct)
	if !ok {
		return 0, ErrNoPosition
	}
	if rk.mark == 0 {
		return 0, ErrNoMark
	}
	side := rk.pos[idx].side
	c := &rk.sides[sideIndex(side)].cuts
	if !c.valid || nowMs < c.atMs || nowMs-c.atMs >= rk.cfg.IndicatorRefreshMs {
		rk.refreshCuts(side, nowMs)
	}
	me := scored{rk.exact(idx), acct}
	light := 5
	for _, cut := range c.cut[:c.ncut] {
		if !better(me, cut) {
			light--
		}
	}
	return light, nil
}

// RefreshIndicators recomputes both sides' cuts now (O(n)); a no-op before
// the first mark.
func (rk *Ranking) RefreshIndicators(nowMs int64) {
	if rk.mark == 0 {
		return
	}
	rk.refreshCuts(Long, nowMs)
	rk.refreshCuts(Short, nowMs)
}

func (rk *Ranking) refreshCuts(side book.Side, nowMs int64) {
	sb := &rk.sides[sideIndex(side)]
	all := rk.scratch[:0]
	mk := rk.markValue()
	up := rk.up(side)
	for i := range rk.pos {
		p := &rk.pos[i]
		if p.live && p.side == side {
			r, rl, g := ratios(up, p.key, mk)
			all = append(all, scored{score(r, rl, g, p.b), p.acct})
		}
	}
	n := len(all)
	c := cuts{valid: true, atMs: nowMs, n: n}
	hi := n // ranks ≥ hi are already placed; select from the top down
	for j := 4; j >= 1; j-- {
		t := (j*n + 4) / 5
		if t >= n {
			continue
		}
		selectRank(all[:hi], t)
		c.cut[j-1] = all[t]
		c.ncut = max(c.ncut, j)
		hi = t
	}
	sb.cuts = c
	rk.scratch = all[:0]
}

// selectRank reorders a so that a[k] is the element of rank k by better,
// with the better ones before it: quickselect with a median-of-three pivot,
// falling back to a sort if the partitioning degenerates.
func selectRank(a []scored, k int) {
	lo, hi := 0, len(a)-1
	budget := 2*bits.Len(uint(len(a))) + 8
	for hi > lo {
		if budget--; budget < 0 {
			slices.SortFunc(a[lo:hi+1], func(x, y scored) int {
				switch {
				case better(x, y):
					return -1
				case better(y, x):
					return 1
				}
				return 0
			})
			return
		}
		mid := lo + (hi-lo)/2
		if better(a[mid], a[lo]) {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if better(a[hi], a[lo]) {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if better(a[hi], a[mid]) {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for better(a[i], p) {
				i++
			}
			for better(p, a[j]) {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}
