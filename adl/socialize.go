package adl

import (
	"cmp"
	"math"
	"slices"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Charge is one profitable position's share of a socialized loss.
type Charge struct {
	Account book.AccountID
	Profit  market.Money // unrealized PnL at the mark (> 0)
	Amount  market.Money // 0 ≤ Amount ≤ Profit
}

// Socialized is the result of Socialize.
type Socialized struct {
	Charges []Charge // by account ascending
	// Charged = Σ Charges[i].Amount = min(deficit, total profit);
	// Uncovered = deficit − Charged (left when the profit does not suffice).
	Charged, Uncovered market.Money
	Mark               book.Ticks // the profits were valued at
}

// Socialize spreads a deficit left by a bankrupt position on bankruptSide
// over every profitable opposite position in proportion to its unrealized
// profit at the mark: A = min(deficit, P), P = Σ profit, split with
// market.Split's rule over the winners by account ascending (the rounding
// dust goes to the higher accounts). The pieces sum to A exactly and none
// exceeds its profit. It changes no position; the risk layer debits the
// amounts. O(n log n) over the side: a rare, cold path.
func (rk *Ranking) Socialize(bankruptSide book.Side, deficit market.Money, dst []Charge) (Socialized, error) {
	return rk.SocializeAt(bankruptSide, deficit, 0, dst)
}

// SocializeAt is Socialize with the profit valued at mark instead of the
// ranking's (0: the ranking's): a liquidation charges its winners what
// they held when its loss was quoted, before the mark moved on.
func (rk *Ranking) SocializeAt(bankruptSide book.Side, deficit market.Money, mark book.Ticks, dst []Charge) (Socialized, error) {
	if mark == 0 {
		mark = rk.mark
	}
	switch {
	case !validSide(bankruptSide):
		return Socialized{}, ErrInvalidSide
	case deficit < 0:
		return Socialized{}, ErrInvalidAmount
	case mark == 0:
		return Socialized{}, ErrNoMark
	case mark < 0:
		return Socialized{}, ErrInvalidPrice
	}
	opp := bankruptSide.Opposite()
	start := len(dst)
	var total market.Money
	for i := range rk.pos {
		p := &rk.pos[i]
		if !p.live || p.side != opp {
			continue
		}
		profit, ok := rk.pnl(p.side, p.qty, p.cost, mark)
		if !ok {
			return Socialized{}, ErrOverflow
		}
		if profit <= 0 {
			continue
		}
		if profit > math.MaxInt64-total {
			return Socialized{}, ErrOverflow
		}
		total += profit
		dst = append(dst, Charge{Account: p.acct, Profit: profit})
	}
	cs := dst[start:]
	slices.SortFunc(cs, func(a, b Charge) int { return cmp.Compare(a.Account, b.Account) })
	a := min(deficit, total)
	var before market.Money
	for i := range cs {
		if total > 0 {
			cs[i].Amount = market.SplitPart(a, before, cs[i].Profit, total)
		}
		before += cs[i].Profit
	}
	return Socialized{Charges: dst, Charged: a, Uncovered: deficit - a, Mark: mark}, nil
}
