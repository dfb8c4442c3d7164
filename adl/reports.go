package adl

import (
	"math"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Accounts report their positions asynchronously: a report sent before the
// account handled a forced close that DeleverageBatch already planned
// against it must not put back what that close takes. So every planned
// close is promised until the account acknowledges it, and the ranking
// holds a report less what is still promised.

// Report sets acct's position as its account reported it (Update's
// arguments; qty 0 removes it), acked being the forced closes the account
// handled since its previous report, whatever it could close. The ranking
// holds the report less the closes still promised, its cost and margin
// scaled to what it holds; Report returns that quantity. bound > 0 marks
// a liquidation's remainder that closes at no price worse than bound, its
// bankruptcy price (see position.bankrupt).
func (rk *Ranking) Report(acct book.AccountID, side book.Side, qty book.Lots, cost, margin market.Money, acked book.Lots, bound book.Ticks) (book.Lots, error) {
	left := rk.promised[acct] - acked
	if left <= 0 {
		delete(rk.promised, acct)
		left = 0
	} else {
		rk.promised[acct] = left
	}
	held := max(qty-left, 0)
	if idx, ok := rk.index.get(acct); acked > 0 && held > 0 && (!ok || rk.pos[idx].side == side && held > rk.pos[idx].qty) {
		// An acknowledged forced close put lots back: it closed less than
		// planned, so the profit its plan noted gone is not all out. Drop
		// it rather than charge those lots twice.
		delete(rk.gone[sideIndex(side.Opposite())], acct)
	}
	if held > 0 && held < qty {
		cost = max(1, scaleDown(cost, held, qty))
		margin = max(1, scaleDown(margin, held, qty))
	}
	if err := rk.Update(acct, side, held, cost, margin); err != nil {
		return held, err
	}
	if idx, ok := rk.index.get(acct); ok {
		rk.pos[idx].bankrupt, rk.pos[idx].bound = bound > 0, max(bound, 0)
	}
	return held, nil
}

// Promised returns the forced closes planned against acct and not yet
// acknowledged.
func (rk *Ranking) Promised(acct book.AccountID) book.Lots { return rk.promised[acct] }

func (rk *Ranking) promise(closes []Close) {
	for _, c := range closes {
		rk.promised[c.Account] += c.Qty
	}
}

// SetAside sets aside for a socialized liquidation on bankruptSide the
// profit of the winners opposite it (their unrealized profit at the mark)
// that other liquidations in flight have not set aside yet, and returns
// it. ReleaseAside gives it back when the liquidation settles.
func (rk *Ranking) SetAside(bankruptSide book.Side) (market.Money, error) {
	if s := sideIndex(bankruptSide); validSide(bankruptSide) && rk.aside[s] == 0 {
		clear(rk.gone[s]) // no liquidation counts on them any more
		clear(rk.unable[s])
	}
	res, err := rk.Socialize(bankruptSide, math.MaxInt64, rk.charges[:0])
	rk.charges = res.Charges[:0]
	if err != nil {
		return 0, err
	}
	s := &rk.aside[sideIndex(bankruptSide)]
	avail := max(0, res.Charged-*s)
	*s += avail
	return avail, nil
}

// ReleaseAside gives back amount set aside for bankruptSide.
func (rk *Ranking) ReleaseAside(bankruptSide book.Side, amount market.Money) {
	if validSide(bankruptSide) {
		s := &rk.aside[sideIndex(bankruptSide)]
		*s = max(0, *s-amount)
	}
}

// SetAsideTotal is what is set aside on both sides: 0 when no socialized
// liquidation is in flight, or set-asides leaked.
func (rk *Ranking) SetAsideTotal() market.Money { return rk.aside[0] + rk.aside[1] }
