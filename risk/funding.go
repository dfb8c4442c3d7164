package risk

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// FundingPayment is what a position of qty lots (signed) receives (+) or
// pays (−) at a funding time with rate and mark: −qty × mark × m × rate, so
// longs pay shorts when rate > 0. Payers' amounts round up, receivers' down,
// hence Σ paid ≥ Σ received over all accounts (Σ qty = 0 at one mark); the
// difference is dust for the fees ledger (FundingTally). rate is clamped to
// ±100 %.
func FundingPayment(sym *market.Symbol, qty book.Lots, rate market.Rate, mark book.Ticks) market.Money {
	rate = min(max(rate, -market.RateScale), market.RateScale)
	v := int64(sym.Notional(mark, qty)) // a long's direction: its value's sign is the contract's
	if qty < 0 {
		v = -v
	}
	pays := (v > 0) == (rate > 0)
	return -market.Money(market.MustMulDiv(v, int64(rate), market.RateScale, pays))
}

// FundingResult is what a funding event did to an account.
type FundingResult struct {
	// Delta is the payment (+ received, − paid), booked to cash (cross) or
	// to the isolated margin.
	Delta market.Money
	// Liquidate: at the stored marks the account or position is now at or
	// below maintenance margin.
	Liquidate bool
}

// ApplyFunding charges or credits sym's position with FundingPayment at
// rate and mark (the mark is stored as sym's mark). No position: zero result.
func (a *Account) ApplyFunding(sym *market.Symbol, rate market.Rate, mark book.Ticks) FundingResult {
	i := a.find(sym)
	if i < 0 || a.pos[i].qty == 0 {
		return FundingResult{}
	}
	p := &a.pos[i]
	p.mark = min(max(mark, 1), sym.MaxPrice)
	d := FundingPayment(sym, p.qty, rate, p.mark)
	if p.mode == Isolated {
		p.margin += d
	} else {
		a.cash += d
	}
	a.afterChange(i)
	return FundingResult{Delta: d, Liquidate: !a.inLiq && a.liquidatable(i)}
}

// FundingTally sums one funding time's payments over all accounts of a
// symbol, so the caller can book the rounding dust to fees.
type FundingTally struct {
	Paid, Received market.Money
}

// Add records one account's FundingResult.Delta.
func (t *FundingTally) Add(delta market.Money) {
	if delta < 0 {
		t.Paid -= delta
	} else {
		t.Received += delta
	}
}

// Dust is Paid − Received (≥ 0 once every position was charged).
func (t *FundingTally) Dust() market.Money { return t.Paid - t.Received }
