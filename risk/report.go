package risk

import (
	"github.com/perpx/perpx/market"
	"github.com/shopspring/decimal"
)

// PositionReport is one open position for the API's ACCOUNT object: plain
// decimals (encoding belongs to the gateway). Qty is the absolute size, Side
// "long" or "short". LiquidationPrice is zero when there is none in range;
// BankruptcyPrice is clamped to [1 tick, MaxPrice] (doc.go).
type PositionReport struct {
	Symbol            string
	Side              string
	Mode              string
	Qty               decimal.Decimal
	EntryPrice        decimal.Decimal
	MarkPrice         decimal.Decimal
	UnrealizedPnL     decimal.Decimal
	RealizedPnL       decimal.Decimal
	Margin            decimal.Decimal // isolated margin, or cross initial margin at the mark
	MaintenanceMargin decimal.Decimal
	Leverage          decimal.Decimal
	LiquidationPrice  decimal.Decimal
	BankruptcyPrice   decimal.Decimal
	// ADLScore is PnL% × effective leverage (0 when not in profit).
	ADLScore decimal.Decimal
}

// AccountReport is the account for the API's ACCOUNT object, in Quote units.
type AccountReport struct {
	Balance           decimal.Decimal // cash + isolated margins
	Cash              decimal.Decimal
	Equity            decimal.Decimal
	Available         decimal.Decimal
	OrderMargin       decimal.Decimal
	MaintenanceMargin decimal.Decimal
	MarginRatio       decimal.Decimal // cross part; see Account.MarginRatio
	InLiquidation     bool
	Positions         []PositionReport // open positions, in the order symbols were first used
}

// Report builds the account's report at the stored marks.
func (a *Account) Report() AccountReport {
	r := AccountReport{
		Balance:           a.Balance().Decimal(),
		Cash:              a.cash.Decimal(),
		Equity:            a.Equity().Decimal(),
		Available:         a.Available().Decimal(),
		OrderMargin:       a.orderMargin.Decimal(),
		MaintenanceMargin: a.MaintenanceMargin().Decimal(),
		MarginRatio:       a.MarginRatio().Decimal(),
		InLiquidation:     a.inLiq,
	}
	for i := range a.pos {
		p := &a.pos[i]
		if p.qty == 0 {
			continue
		}
		liq, bk := a.prices(i)
		pr := PositionReport{
			Symbol:            p.sym.Name,
			Side:              "long",
			Mode:              p.mode.String(),
			Qty:               p.sym.Qty(abs(p.qty)),
			EntryPrice:        p.sym.PriceOf(p.cost, p.qty),
			MarkPrice:         p.sym.Price(p.mark),
			UnrealizedPnL:     p.upnl().Decimal(),
			RealizedPnL:       p.realized.Decimal(),
			Margin:            p.margin.Decimal(),
			MaintenanceMargin: p.maintenance().Decimal(),
			Leverage:          decimal.NewFromInt(p.lev),
			ADLScore:          a.adlScore(i).Decimal(),
		}
		if p.qty < 0 {
			pr.Side = "short"
		}
		if p.mode == Cross {
			pr.Margin = p.initialMargin().Decimal()
		}
		if liq >= 1 && liq <= p.sym.MaxPrice {
			pr.LiquidationPrice = p.sym.Price(liq)
		}
		pr.BankruptcyPrice = p.sym.Price(bk)
		r.Positions = append(r.Positions, pr)
	}
	return r
}

// ADLScore is sym's ADL ranking number (doc.go): PnL% × effective leverage,
// as a Rate; 0 without a profitable position.
func (a *Account) ADLScore(sym *market.Symbol) market.Rate {
	i := a.find(sym)
	if i < 0 {
		return 0
	}
	return a.adlScore(i)
}

func (a *Account) adlScore(i int) market.Rate {
	p := &a.pos[i]
	u := p.upnl()
	if p.qty == 0 || u <= 0 || p.cost == 0 {
		return 0
	}
	eq := p.margin + u
	if p.mode == Cross {
		eq, _ = a.crossEquityMM()
	}
	if eq <= 0 {
		return 0
	}
	c := p.cost
	if c < 0 {
		c = -c
	}
	pnlPct, ok1 := market.MulDiv(int64(u), market.RateScale, int64(c), false)
	lev, ok2 := market.MulDiv(int64(p.notional()), market.RateScale, int64(eq), false)
	s, ok3 := market.MulDiv(pnlPct, lev, market.RateScale, false)
	if !ok1 || !ok2 || !ok3 {
		return MaxMarginRatio
	}
	return market.Rate(s)
}
