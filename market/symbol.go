package market

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/perpx/perpx/book"
	"github.com/shopspring/decimal"
)

// ContractKind selects the value and PnL formulas of a symbol; every caller
// goes through Value, Notional and PnL (and ValueDiff for a price
// difference), which switch on it.
type ContractKind uint8

const (
	// Linear: quoted and settled in the quote asset; value = qty × price.
	Linear ContractKind = 1
	// Inverse: settled in the base coin; value = qty × contract / price,
	// signed against the position (a long's value is negative), so that
	// PnL = Value − cost holds for both kinds: a long gains as 1/price falls.
	Inverse ContractKind = 2
)

func (k ContractKind) String() string {
	switch k {
	case Linear:
		return "linear"
	case Inverse:
		return "inverse"
	}
	return "invalid"
}

// ADLMode says what happens to a deficit the insurance fund cannot cover.
type ADLMode uint8

const (
	// ADLRanked closes profitable opposite positions, best rank first, at the
	// bankruptcy price (the default).
	ADLRanked ADLMode = 1
	// ADLSocialized is reserved for spreading the loss over all winners.
	ADLSocialized ADLMode = 2
)

func (m ADLMode) String() string {
	switch m {
	case ADLRanked:
		return "adl"
	case ADLSocialized:
		return "socialized"
	}
	return "invalid"
}

// Tier is one compiled maintenance-margin tier. A position whose notional N
// is at most MaxNotional (and above the previous tier's) has maintenance
// margin MM(N) = ceil(N×MMR/1e8) − Cum, where Cum makes MM continuous across
// tiers (see doc.go). MaxLeverage is the highest leverage allowed while the
// position (plus its opening orders) is in this tier.
type Tier struct {
	MaxNotional Money
	MMR         Rate
	Cum         Money
	MaxLeverage int64
}

// Symbol is a compiled SymbolConfig: every rule as an integer the hot paths
// use directly. Prices are book.Ticks, quantities book.Lots, money Money.
// Treat it as read-only after Compile; risk accounts hold pointers to it.
type Symbol struct {
	Name  string
	Quote string
	// Settle is the asset margin, PnL, fees and the insurance fund are in:
	// Quote for a linear contract, the base coin for an inverse one.
	Settle string
	Kind   ContractKind
	// InverseK is an inverse contract's Money × ticks per lot (lot ×
	// contract size × 1e8 / tick): one lot at price p ticks is worth
	// InverseK / p of the settlement coin.
	InverseK Money

	// TickSize and LotSize are the decimal sizes of one tick and one lot.
	TickSize decimal.Decimal
	LotSize  decimal.Decimal
	// Multiplier is the Money value of one lot at a price of one tick
	// (tick × lot × 1e8, a whole number ≥ 1 by construction).
	Multiplier Money

	// MaxPrice and MaxQty bound every order price and every position size;
	// MaxPrice × MaxQty × Multiplier ≤ MaxNotionalCap, so a position's value
	// always fits in int64 with room for sums over an account.
	MaxPrice book.Ticks
	MaxQty   book.Lots

	MinNotional Money
	MaxLeverage int64
	// MaxOpenOrders caps one account's open orders in the symbol, so no
	// account can grow the books and its own state without bound; 0 (a
	// Symbol built by hand) means no cap.
	MaxOpenOrders int
	// MaxConditionalOrders caps one account's untriggered conditional
	// orders in the symbol (they count apart from MaxOpenOrders: they
	// reserve nothing until they trigger); 0 means no cap.
	MaxConditionalOrders int
	// Tiers ascend by MaxNotional; the last tier's MaxNotional is the largest
	// position notional an order may create.
	Tiers []Tier

	MakerFee       Rate
	TakerFee       Rate
	LiquidationFee Rate
	// PriceBand: orders further than PriceBand×mark from the mark are rejected.
	PriceBand Rate
	// LiquidationSlippage: a liquidation's order never trades further than
	// this fraction of its bankruptcy price beyond it (LiquidationBound).
	LiquidationSlippage Rate

	Funding           bool
	FundingIntervalMs int64
	// InterestRate is the interest component per funding interval,
	// PremiumClamp the ± clamp around it and FundingCap the ± cap of the
	// funding rate (see doc.go).
	InterestRate Rate
	PremiumClamp Rate
	FundingCap   Rate

	ADL ADLMode
	// PartialLiquidation: a liquidatable position beyond the first tier is
	// first reduced to the tier below rather than taken over (risk).
	PartialLiquidation bool

	maxPriceDec decimal.Decimal
	maxQtyDec   decimal.Decimal
}

// Bounds and defaults of Compile.
const (
	// MaxNotionalCap bounds MaxPrice × MaxQty × Multiplier: 1e9 USDT.
	MaxNotionalCap Money = 100_000_000_000_000_000
	// MaxLeverageCap is the highest max_leverage a config may ask for.
	MaxLeverageCap = 1000
	// MaxTiers bounds the number of maintenance-margin tiers.
	MaxTiers = 32
	// maxSizeDecimals bounds the decimals of tick and lot sizes.
	maxSizeDecimals = 18

	// DefaultInverseMaxPrice is an inverse contract's default (and
	// largest) MaxPrice in ticks: prices do not raise its values, so the
	// bound only keeps tick arithmetic far from overflow.
	DefaultInverseMaxPrice = 1_000_000_000_000
	DefaultQuote           = "USDT"
	DefaultMaxLeverage     = 100
	DefaultMaxOpenOrders   = 1000
	// MaxOpenOrdersCap keeps one symbol's state of one account within
	// NATS's default 1 MiB max_payload (an order is ≈ 250-450 bytes).
	MaxOpenOrdersCap = 2000
	// DefaultMaxConditionalOrders is also the cap (MaxOpenOrdersCap's
	// reason: with 2 000 open orders and 200 conditional ones a symbol's
	// state still fits 1 MiB).
	DefaultMaxConditionalOrders = 200
	DefaultFundingIntervalS     = 8 * 3600
	MinFundingIntervalS         = 60
	MaxFundingIntervalS         = 7 * 24 * 3600

	// DefaultInterest8h is the interest component of the funding rate per
	// 8 hours (0.01 %), scaled linearly to the symbol's interval.
	DefaultInterest8h Rate = 10_000
	// DefaultPremiumClamp is the ± clamp of (interest − premium): 0.05 %.
	DefaultPremiumClamp Rate = 50_000
)

var (
	decOne           = decimal.NewFromInt(1)
	defaultPriceBand = decimal.RequireFromString("0.5")
	// defaultLiqSlippage (5 %) keeps the rulebook's examples (a long
	// bankrupt at 3000 sold at 2960) and bounds what a thin book can cost.
	defaultLiqSlippage = decimal.RequireFromString("0.05")
	defaultTierConfig  = []TierConfig{{MaxNotional: decimal.NewFromInt(1_000_000_000), MMR: decimal.RequireFromString("0.01")}}
	maxRate            = Rate(RateScale)
	halfRate           = Rate(RateScale / 2)
	tenthRate          = Rate(RateScale / 10)
)

func cfgErr(sym, field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s: %s", ErrConfig, sym, field, fmt.Sprintf(format, args...))
}

// orDefault returns d, or def when d is zero (the field was omitted).
func orDefault(d, def decimal.Decimal) decimal.Decimal {
	if d.IsZero() {
		return def
	}
	return d
}

// validName reports whether s is a NATS-token-safe name (API.md).
func validName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Compile validates c and turns it into a Symbol. Omitted (zero) fields get
// the defaults of API.md's example: tick 1, lot 1, max_leverage 100, one tier
// {1e9, 0.01}, price_band 0.5, liquidation_slippage 0.05 (omitted, not
// zero), funding every 28800 s, funding on. Every error wraps ErrConfig and
// names the field.
func (c SymbolConfig) Compile() (*Symbol, error) {
	name := c.Symbol
	if !validName(name) {
		return nil, cfgErr(name, "symbol", "must be 1-32 characters of [A-Za-z0-9_-]")
	}
	s := &Symbol{Name: name, Quote: c.Quote, Kind: Linear, ADL: ADLRanked, Funding: true}
	if s.Quote == "" {
		s.Quote = DefaultQuote
	}
	if !validName(s.Quote) {
		return nil, cfgErr(name, "quote", "must be 1-32 characters of [A-Za-z0-9_-]")
	}
	kind, field := c.Contract, "contract"
	if kind == "" {
		kind, field = c.Kind, "kind"
	}
	switch strings.ToLower(kind) {
	case "", "linear":
		if c.Settle != "" && c.Settle != s.Quote {
			return nil, cfgErr(name, "settle", "a linear contract settles in its quote %s", s.Quote)
		}
		s.Settle = s.Quote
		if !c.ContractSize.IsZero() {
			return nil, cfgErr(name, "contract_size", "is for inverse contracts")
		}
	case "inverse":
		s.Kind, s.Settle = Inverse, c.Settle
		if !validName(s.Settle) || s.Settle == s.Quote {
			return nil, cfgErr(name, "settle", "an inverse contract names the coin it settles in (not its quote %s)", s.Quote)
		}
	default:
		return nil, cfgErr(name, field, "%q is neither linear nor inverse", kind)
	}
	if err := s.compileSizes(c); err != nil {
		return nil, err
	}
	if err := s.compileLimits(c); err != nil {
		return nil, err
	}
	if err := s.compileTiers(c.MMTiers); err != nil {
		return nil, err
	}
	if err := s.compileFeesAndFunding(c); err != nil {
		return nil, err
	}
	return s, nil
}

// compileSizes sets tick, lot, multiplier, MaxPrice and MaxQty.
func (s *Symbol) compileSizes(c SymbolConfig) error {
	s.TickSize = orDefault(c.Tick, decOne)
	s.LotSize = orDefault(c.Lot, decOne)
	if s.TickSize.Sign() < 0 || !s.TickSize.Shift(maxSizeDecimals).IsInteger() {
		return cfgErr(s.Name, "tick", "must be positive with at most %d decimals", maxSizeDecimals)
	}
	if s.LotSize.Sign() < 0 || !s.LotSize.Shift(maxSizeDecimals).IsInteger() {
		return cfgErr(s.Name, "lot", "must be positive with at most %d decimals", maxSizeDecimals)
	}
	if s.Kind == Inverse {
		// A lot is worth InverseK/p ≤ InverseK: the budget bounds the lots,
		// and prices only by the tick count (they cannot raise a value).
		k, ok := MoneyFromDecimal(s.LotSize.Mul(orDefault(c.ContractSize, decOne)).Div(s.TickSize))
		if !ok || k < 1 || k > MaxNotionalCap || c.ContractSize.Sign() < 0 {
			return cfgErr(s.Name, "lot×contract_size/tick", "must be a positive whole multiple of 0.00000001 of the settlement coin, at most %s", MaxNotionalCap)
		}
		s.InverseK = k
		return s.compileInverseLimits(c, uint64(MaxNotionalCap/k))
	}
	m, ok := MoneyFromDecimal(s.TickSize.Mul(s.LotSize))
	if !ok || m < 1 || m > MaxNotionalCap {
		return cfgErr(s.Name, "tick×lot", "%s × %s must be a whole multiple of 0.00000001 and at most %s",
			s.TickSize, s.LotSize, MaxNotionalCap)
	}
	s.Multiplier = m
	budget := uint64(MaxNotionalCap / m) // tick×lot units a position may be worth

	if c.MaxPrice.IsZero() {
		// Default split of the budget: MaxPrice = 10^(digits(budget)/2).
		p := uint64(1)
		for d := len(fmt.Sprint(budget)) / 2; d > 0; d-- {
			p *= 10
		}
		s.MaxPrice = book.Ticks(p)
	} else {
		v, ok := units(c.MaxPrice, s.TickSize)
		if !ok || v < 1 || uint64(v) > budget {
			return cfgErr(s.Name, "max_price", "must be a positive multiple of the tick with max_price×lot ≤ %s", MaxNotionalCap)
		}
		s.MaxPrice = book.Ticks(v)
	}
	if c.MaxQty.IsZero() {
		s.MaxQty = book.Lots(budget / uint64(s.MaxPrice))
	} else {
		v, ok := units(c.MaxQty, s.LotSize)
		if !ok || v < 1 {
			return cfgErr(s.Name, "max_qty", "must be a positive multiple of the lot")
		}
		s.MaxQty = book.Lots(v)
	}
	if hi, lo := bits.Mul64(uint64(s.MaxPrice), uint64(s.MaxQty)); s.MaxQty < 1 || hi != 0 || lo > budget {
		return cfgErr(s.Name, "max_price×max_qty", "position value must be ≥ 1 lot and ≤ %s", MaxNotionalCap)
	}
	s.maxPriceDec = s.Price(s.MaxPrice)
	s.maxQtyDec = s.Qty(s.MaxQty)
	return nil
}

// compileInverseLimits sets an inverse contract's MaxPrice (default
// DefaultInverseMaxPrice ticks) and MaxQty (default: the lots whose value
// at one tick is MaxNotionalCap).
func (s *Symbol) compileInverseLimits(c SymbolConfig, maxLots uint64) error {
	s.MaxPrice = DefaultInverseMaxPrice
	if !c.MaxPrice.IsZero() {
		v, ok := units(c.MaxPrice, s.TickSize)
		if !ok || v < 1 || v > DefaultInverseMaxPrice {
			return cfgErr(s.Name, "max_price", "must be a positive multiple of the tick, at most %d ticks", DefaultInverseMaxPrice)
		}
		s.MaxPrice = book.Ticks(v)
	}
	s.MaxQty = book.Lots(maxLots)
	if !c.MaxQty.IsZero() {
		v, ok := units(c.MaxQty, s.LotSize)
		if !ok || v < 1 || uint64(v) > maxLots {
			return cfgErr(s.Name, "max_qty", "must be a positive multiple of the lot with max_qty×lot×contract_size/tick ≤ %s", MaxNotionalCap)
		}
		s.MaxQty = book.Lots(v)
	}
	s.maxPriceDec = s.Price(s.MaxPrice)
	s.maxQtyDec = s.Qty(s.MaxQty)
	return nil
}

// compileLimits sets min notional and max leverage.
func (s *Symbol) compileLimits(c SymbolConfig) error {
	mn, ok := MoneyFromDecimal(c.MinNotional)
	if !ok || mn < 0 || mn > MaxNotionalCap {
		return cfgErr(s.Name, "min_notional", "must be between 0 and %s with at most 8 decimals", MaxNotionalCap)
	}
	s.MinNotional = mn
	lev := orDefault(c.MaxLeverage, decimal.NewFromInt(DefaultMaxLeverage))
	if !lev.IsInteger() || lev.Sign() <= 0 || lev.GreaterThan(decimal.NewFromInt(MaxLeverageCap)) {
		return cfgErr(s.Name, "max_leverage", "must be a whole number from 1 to %d", MaxLeverageCap)
	}
	s.MaxLeverage = lev.IntPart()
	s.MaxOpenOrders = c.MaxOpenOrders
	if s.MaxOpenOrders == 0 {
		s.MaxOpenOrders = DefaultMaxOpenOrders
	}
	if s.MaxOpenOrders < 1 || s.MaxOpenOrders > MaxOpenOrdersCap {
		return cfgErr(s.Name, "max_open_orders", "must be from 1 to %d", MaxOpenOrdersCap)
	}
	s.PartialLiquidation = c.PartialLiquidation
	if s.MaxConditionalOrders = c.MaxConditionalOrders; s.MaxConditionalOrders == 0 {
		s.MaxConditionalOrders = DefaultMaxConditionalOrders
	}
	if s.MaxConditionalOrders < 1 || s.MaxConditionalOrders > DefaultMaxConditionalOrders {
		return cfgErr(s.Name, "max_conditional_orders", "must be from 1 to %d", DefaultMaxConditionalOrders)
	}
	return nil
}

// compileTiers validates the maintenance-margin tiers and derives Cum and
// each tier's max leverage.
func (s *Symbol) compileTiers(cfg []TierConfig) error {
	if len(cfg) == 0 {
		cfg = defaultTierConfig
	}
	if len(cfg) > MaxTiers {
		return cfgErr(s.Name, "mm_tiers", "at most %d tiers", MaxTiers)
	}
	s.Tiers = make([]Tier, len(cfg))
	var prev Tier
	for i, tc := range cfg {
		field := fmt.Sprintf("mm_tiers[%d]", i)
		n, ok := MoneyFromDecimal(tc.MaxNotional)
		if !ok || n <= prev.MaxNotional || n > MaxNotionalCap {
			return cfgErr(s.Name, field+".max_notional", "must ascend, be > 0 and ≤ %s", MaxNotionalCap)
		}
		r, ok := RateFromDecimal(tc.MMR)
		if !ok || r <= 0 || r > halfRate || r < prev.MMR {
			return cfgErr(s.Name, field+".mmr", "must be in (0, 0.5], not below the previous tier's, at most 8 decimals")
		}
		t := Tier{MaxNotional: n, MMR: r, Cum: prev.Cum}
		if i > 0 {
			// Cum_i = Cum_{i-1} + MaxNotional_{i-1} × (MMR_i − MMR_{i-1}); must be exact.
			lo, _ := MulDiv(int64(prev.MaxNotional), int64(r-prev.MMR), RateScale, false)
			hi, _ := MulDiv(int64(prev.MaxNotional), int64(r-prev.MMR), RateScale, true)
			if lo != hi {
				return cfgErr(s.Name, field, "max_notional of the previous tier × mmr step must be a whole multiple of 0.00000001")
			}
			t.Cum += Money(lo)
		}
		maxLev := min(s.MaxLeverage, max(1, int64(RateScale/(2*int64(r)))))
		if !tc.MaxLeverage.IsZero() {
			if !tc.MaxLeverage.IsInteger() || tc.MaxLeverage.Sign() <= 0 || tc.MaxLeverage.IntPart() > s.MaxLeverage {
				return cfgErr(s.Name, field+".max_leverage", "must be a whole number from 1 to max_leverage %d", s.MaxLeverage)
			}
			maxLev = tc.MaxLeverage.IntPart()
			if hi, lo := bits.Mul64(uint64(maxLev), uint64(r)); hi != 0 || lo >= RateScale {
				return cfgErr(s.Name, field+".max_leverage", "initial margin 1/%d must exceed the mmr %s", maxLev, r)
			}
		}
		if i > 0 && maxLev > prev.MaxLeverage {
			return cfgErr(s.Name, field+".max_leverage", "must not rise with notional")
		}
		t.MaxLeverage = maxLev
		s.Tiers[i] = t
		prev = t
	}
	return nil
}

// compileFeesAndFunding sets fees, price band, liquidation slippage,
// funding and ADL mode.
func (s *Symbol) compileFeesAndFunding(c SymbolConfig) error {
	var ok bool
	if s.TakerFee, ok = RateFromDecimal(c.TakerFee); !ok || s.TakerFee < 0 || s.TakerFee > tenthRate {
		return cfgErr(s.Name, "taker_fee", "must be in [0, 0.1] with at most 8 decimals")
	}
	if s.MakerFee, ok = RateFromDecimal(c.MakerFee); !ok || s.MakerFee < -s.TakerFee || s.MakerFee > tenthRate {
		return cfgErr(s.Name, "maker_fee", "must be in [-taker_fee, 0.1] with at most 8 decimals")
	}
	if s.LiquidationFee, ok = RateFromDecimal(c.LiquidationFee); !ok || s.LiquidationFee < 0 || s.LiquidationFee > halfRate {
		return cfgErr(s.Name, "liquidation_fee", "must be in [0, 0.5] with at most 8 decimals")
	}
	if s.PriceBand, ok = RateFromDecimal(orDefault(c.PriceBand, defaultPriceBand)); !ok || s.PriceBand <= 0 || s.PriceBand >= maxRate {
		return cfgErr(s.Name, "price_band", "must be in (0, 1) with at most 8 decimals")
	}
	slip := defaultLiqSlippage
	if c.LiquidationSlippage != nil {
		slip = *c.LiquidationSlippage
	}
	if s.LiquidationSlippage, ok = RateFromDecimal(slip); !ok || s.LiquidationSlippage < 0 || s.LiquidationSlippage >= maxRate {
		return cfgErr(s.Name, "liquidation_slippage", "must be in [0, 1) with at most 8 decimals")
	}
	iv := c.FundingIntervalS
	if iv == 0 {
		iv = DefaultFundingIntervalS
	}
	if iv < MinFundingIntervalS || iv > MaxFundingIntervalS {
		return cfgErr(s.Name, "funding_interval_s", "must be from %d to %d", MinFundingIntervalS, MaxFundingIntervalS)
	}
	s.FundingIntervalMs = iv * 1000
	if c.Funding != nil {
		s.Funding = *c.Funding
	}
	s.InterestRate = Rate(int64(DefaultInterest8h) * iv / DefaultFundingIntervalS)
	s.PremiumClamp = DefaultPremiumClamp
	// Cap ±0.75 × the first tier's MMR, never below the clamp.
	s.FundingCap = max(s.Tiers[0].MMR*3/4, s.PremiumClamp)
	switch strings.ToLower(c.ADLMode) {
	case "", "adl":
		s.ADL = ADLRanked
	case "socialized":
		s.ADL = ADLSocialized
	default:
		return cfgErr(s.Name, "adl_mode", "%q is neither adl nor socialized", c.ADLMode)
	}
	return nil
}

// TierIndex is the index of the tier whose range holds notional n (the
// last tier for anything above it).
func (s *Symbol) TierIndex(n Money) int {
	for i := range s.Tiers {
		if n <= s.Tiers[i].MaxNotional {
			return i
		}
	}
	return len(s.Tiers) - 1
}

// TierFor returns the tier whose range holds notional n (the last tier for
// anything above it).
func (s *Symbol) TierFor(n Money) *Tier { return &s.Tiers[s.TierIndex(n)] }

// MaintenanceMargin is MM(n) = ceil(n×MMR/1e8) − Cum of n's tier, for a
// position notional 0 ≤ n ≤ 2×MaxNotionalCap.
func (s *Symbol) MaintenanceMargin(n Money) Money {
	t := s.TierFor(n)
	return Money(MustMulDiv(int64(n), int64(t.MMR), RateScale, true)) - t.Cum
}

// PositionLimit is the largest notional an order may bring a position to:
// the last tier's MaxNotional.
func (s *Symbol) PositionLimit() Money { return s.Tiers[len(s.Tiers)-1].MaxNotional }

// Value is the signed Money value of q lots at price p: linear q × p ×
// Multiplier; inverse −q × InverseK / p, its magnitude rounded down (so a
// trade's two sides are worth exactly opposite amounts) and 0 for p ≤ 0.
// Inputs within MaxQty and 2×MaxPrice never overflow.
func (s *Symbol) Value(p book.Ticks, q book.Lots) Money {
	if s.Kind != Inverse {
		return Money(int64(q) * int64(p) * int64(s.Multiplier))
	}
	if p <= 0 {
		return 0
	}
	v := Money(MustMulDiv(int64(abs(q)), int64(s.InverseK), int64(p), false))
	if q > 0 {
		return -v
	}
	return v
}

// ValueDiff is Value(a, q) − Value(b, q): what holding q lots gains from a
// move from price b to price a (linear: q × (a − b) × Multiplier).
func (s *Symbol) ValueDiff(a, b book.Ticks, q book.Lots) Money {
	if s.Kind != Inverse {
		return s.Value(a-b, q)
	}
	return s.Value(a, q) - s.Value(b, q)
}

// MaxLotValue bounds |Value(p, 1)| over the prices a close may use
// (up to 2 × MaxPrice): linear at 2 × MaxPrice, inverse at one tick.
func (s *Symbol) MaxLotValue() Money {
	if s.Kind == Inverse {
		return s.InverseK
	}
	return Money(2 * int64(s.MaxPrice) * int64(s.Multiplier))
}

func abs(q book.Lots) book.Lots {
	if q < 0 {
		return -q
	}
	return q
}

// Notional is |Value(p, q)|.
func (s *Symbol) Notional(p book.Ticks, q book.Lots) Money {
	if q < 0 {
		q = -q
	}
	if s.Kind == Inverse {
		return -s.Value(p, q)
	}
	return s.Value(p, q)
}

// PnL is the unrealized PnL of a position of q lots (signed, + long) whose
// cost basis is cost (signed: the sum of its fills' values), at price p.
func (s *Symbol) PnL(q book.Lots, cost Money, p book.Ticks) Money {
	return s.Value(p, q) - cost
}

// FeeRate is MakerFee or TakerFee.
func (s *Symbol) FeeRate(maker bool) Rate {
	if maker {
		return s.MakerFee
	}
	return s.TakerFee
}

// MarketBound is the worst price a market order on side may fill at: the
// band's edge against it around mark (0, no bound, without a mark).
func (s *Symbol) MarketBound(side book.Side, mark book.Ticks) book.Ticks {
	if mark <= 0 {
		return 0
	}
	lo, hi := s.Band(mark)
	if side == book.Buy {
		return hi
	}
	return lo
}

// LiquidationBound is the worst price a liquidation's order closing a long
// (a sell, long true) or a short (a buy) with bankruptcy price bk may trade
// at: bk ∓ floor(bk × LiquidationSlippage), rounded towards bk so a fill
// there never loses more than the slippage. Within [1, 2×bk) for bk ≥ 1.
func (s *Symbol) LiquidationBound(long bool, bk book.Ticks) book.Ticks {
	w := book.Ticks(MustMulDiv(int64(bk), int64(s.LiquidationSlippage), RateScale, false))
	if long {
		return bk - w
	}
	return bk + w
}

// Band returns the lowest and highest order price accepted around mark:
// mark ∓ floor(mark × PriceBand), clamped to [1, MaxPrice].
func (s *Symbol) Band(mark book.Ticks) (lo, hi book.Ticks) {
	w := book.Ticks(MustMulDiv(int64(mark), int64(s.PriceBand), RateScale, false))
	return max(1, mark-w), min(s.MaxPrice, mark+w)
}
