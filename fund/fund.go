package fund

import (
	"fmt"
	"math"
	"slices"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/internal/ring"
	"github.com/perpx/perpx/market"
)

// Config sizes the fund's bounded memory.
type Config struct {
	HistoryCap int // events kept in the ring; 0 means DefaultHistoryCap
	DailyCap   int // UTC days of totals kept per asset; 0 means DefaultDailyCap
}

// Defaults for Config's zero values.
const (
	DefaultHistoryCap = 10_000
	DefaultDailyCap   = 400
)

// ReservationID names a coverage reservation; the caller picks it (e.g. the
// liquidation's id). NoReservation settles against the free balance only.
type ReservationID uint64

// NoReservation is the id for a Settle without a reservation.
const NoReservation ReservationID = 0

type reservation struct {
	asset  string
	amount market.Money // still reserved
}

type assetState struct {
	balance  market.Money
	reserved market.Money // Σ reservations of this asset; ≤ balance
	life     Totals
	days     []Daily
}

// Fund is the insurance fund: one balance per settlement asset, coverage
// reservations, a bounded history and daily totals. Single-threaded and
// deterministic; time is a parameter.
type Fund struct {
	cfg    Config
	assets map[string]*assetState
	res    map[ReservationID]*reservation
	hist   ring.Ring[Event]
	seq    uint64
}

// New returns an empty fund.
func New(cfg Config) (*Fund, error) {
	if cfg.HistoryCap < 0 || cfg.DailyCap < 0 {
		return nil, fmt.Errorf("%w: history cap %d, daily cap %d", ErrInvalidConfig, cfg.HistoryCap, cfg.DailyCap)
	}
	if cfg.HistoryCap == 0 {
		cfg.HistoryCap = DefaultHistoryCap
	}
	if cfg.DailyCap == 0 {
		cfg.DailyCap = DefaultDailyCap
	}
	return &Fund{
		cfg:    cfg,
		assets: make(map[string]*assetState),
		res:    make(map[ReservationID]*reservation),
		hist:   ring.New[Event](cfg.HistoryCap),
	}, nil
}

// Balance is an asset's balance, reserved part included.
func (f *Fund) Balance(asset string) market.Money {
	if a, ok := f.assets[asset]; ok {
		return a.balance
	}
	return 0
}

// Reserved is the part of an asset's balance held by open reservations.
func (f *Fund) Reserved(asset string) market.Money {
	if a, ok := f.assets[asset]; ok {
		return a.reserved
	}
	return 0
}

// Available is what a new reservation or an unreserved deficit can draw.
func (f *Fund) Available(asset string) market.Money { return f.Balance(asset) - f.Reserved(asset) }

// Assets lists the assets the fund has seen, sorted.
func (f *Fund) Assets() []string {
	names := make([]string, 0, len(f.assets))
	for name := range f.assets {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func (f *Fund) asset(name string) *assetState {
	a, ok := f.assets[name]
	if !ok {
		a = &assetState{}
		f.assets[name] = a
	}
	return a
}

// record applies delta to the asset's balance and appends the event.
func (f *Fund) record(name string, a *assetState, delta market.Money, reason Reason, acct book.AccountID, sym string, timeMs int64) Event {
	a.balance += delta
	f.seq++
	e := Event{Seq: f.seq, TimeMs: timeMs, Asset: name, Delta: delta, Balance: a.balance,
		Reason: reason, Account: acct, Symbol: sym}
	f.hist.Push(e)
	return e
}

// fits reports whether balance + in stays within int64.
func fits(balance, in market.Money) bool { return in <= math.MaxInt64-balance }

// Deposit adds an admin deposit. A zero amount records nothing and returns
// an Event with Seq 0 and the current balance (a balance query).
func (f *Fund) Deposit(asset string, amount market.Money, timeMs int64) (Event, error) {
	switch {
	case asset == "":
		return Event{}, ErrInvalidAsset
	case amount < 0:
		return Event{}, ErrInvalidAmount
	case amount == 0:
		return Event{Asset: asset, Balance: f.Balance(asset), Reason: ReasonDeposit, TimeMs: timeMs}, nil
	case !fits(f.Balance(asset), amount):
		return Event{}, ErrOverflow
	}
	a := f.asset(asset)
	a.life.Deposits += amount
	a.day(asset, DayOf(timeMs), f.cfg.DailyCap).Deposits += amount
	return f.record(asset, a, amount, ReasonDeposit, 0, "", timeMs), nil
}

// Reserve sets aside min(available, needed) of an asset for liquidation id
// and returns it; a reservation of 0 is still opened, so Settle and Release
// work the same way. Reservations can never sum to more than the balance.
func (f *Fund) Reserve(id ReservationID, asset string, needed market.Money) (market.Money, error) {
	switch {
	case id == NoReservation:
		return 0, ErrInvalidReservation
	case asset == "":
		return 0, ErrInvalidAsset
	case needed < 0:
		return 0, ErrInvalidAmount
	}
	if _, dup := f.res[id]; dup {
		return 0, fmt.Errorf("%w: %d", ErrDuplicateReservation, id)
	}
	a := f.asset(asset)
	got := min(needed, a.balance-a.reserved)
	a.reserved += got
	f.res[id] = &reservation{asset: asset, amount: got}
	return got, nil
}

// Release closes reservation id and returns what it still held to the
// available balance.
func (f *Fund) Release(id ReservationID) (market.Money, error) {
	r, ok := f.res[id]
	if !ok {
		return 0, fmt.Errorf("%w: %d", ErrUnknownReservation, id)
	}
	f.assets[r.asset].reserved -= r.amount
	delete(f.res, id)
	return r.amount, nil
}

// Settlement is the fund's side of one liquidation (or one of its fills).
type Settlement struct {
	Asset   string
	Account book.AccountID
	Symbol  string
	TimeMs  int64
	// PnL is what is left of the position's margin at execution, i.e. the
	// execution's PnL against the bankruptcy price: > 0 a surplus paid into
	// the fund, < 0 a deficit drawn from it.
	PnL    market.Money
	Fee    market.Money // liquidation fee paid into the fund (≥ 0)
	Volume market.Money // notional liquidated, for the daily totals (≥ 0)
}

// Settled is the result of Settle.
type Settled struct {
	Covered   market.Money // deficit the fund paid
	Uncovered market.Money // deficit it could not pay: the caller sends it to ADL
	Events    []Event      // the balance changes, in order (fee, surplus or deficit)
}

// Settle books a liquidation against reservation id (or NoReservation).
// Inflows (fee, then surplus) are added first; a deficit is drawn from the
// reservation first, then from the available balance, never below zero;
// what is left is Uncovered. The reservation stays open (Release it when
// the liquidation is done), minus what the deficit used.
func (f *Fund) Settle(id ReservationID, s Settlement) (Settled, error) {
	switch {
	case s.Asset == "":
		return Settled{}, ErrInvalidAsset
	case s.Fee < 0 || s.Volume < 0 || s.PnL == math.MinInt64:
		return Settled{}, ErrInvalidAmount
	}
	var r *reservation
	if id != NoReservation {
		var ok bool
		if r, ok = f.res[id]; !ok {
			return Settled{}, fmt.Errorf("%w: %d", ErrUnknownReservation, id)
		}
		if r.asset != s.Asset {
			return Settled{}, fmt.Errorf("%w: %s vs %s", ErrAssetMismatch, s.Asset, r.asset)
		}
	}
	in := s.Fee + max(s.PnL, 0)
	if in < s.Fee || !fits(f.Balance(s.Asset), in) {
		return Settled{}, ErrOverflow
	}

	a := f.asset(s.Asset)
	d := a.day(s.Asset, DayOf(s.TimeMs), f.cfg.DailyCap)
	var out Settled
	flow := func(delta market.Money, reason Reason) {
		out.Events = append(out.Events, f.record(s.Asset, a, delta, reason, s.Account, s.Symbol, s.TimeMs))
	}
	if s.Fee > 0 {
		flow(s.Fee, ReasonLiquidationFee)
	}
	if s.PnL > 0 {
		flow(s.PnL, ReasonLiquidationSurplus)
	}
	if s.PnL < 0 {
		deficit := -s.PnL
		var fromRes market.Money
		if r != nil {
			fromRes = min(deficit, r.amount)
			r.amount -= fromRes
			a.reserved -= fromRes
		}
		// fromRes is still in the balance; what is free besides it:
		out.Covered = fromRes + min(deficit-fromRes, a.balance-fromRes-a.reserved)
		out.Uncovered = deficit - out.Covered
		if out.Covered > 0 {
			flow(-out.Covered, ReasonLiquidationDeficit)
		}
	}
	for _, t := range []*Totals{&a.life, &d.Totals} {
		t.Liquidations++
		t.LiquidationVolume += s.Volume
		t.Fees += s.Fee
		t.Surplus += max(s.PnL, 0)
		t.Deficits += out.Covered
		t.Uncovered += out.Uncovered
	}
	return out, nil
}

// Check verifies the invariants: per asset 0 ≤ reserved ≤ balance, reserved
// = Σ its open reservations, and balance = deposits + surplus + fees −
// deficits paid since the start.
func (f *Fund) Check() error {
	held := map[string]market.Money{}
	for id, r := range f.res {
		if r.amount < 0 {
			return fmt.Errorf("fund: reservation %d holds %v", id, r.amount)
		}
		held[r.asset] += r.amount
	}
	for name, a := range f.assets {
		switch {
		case a.balance < 0:
			return fmt.Errorf("fund: %s balance %v below zero", name, a.balance)
		case a.reserved < 0 || a.reserved > a.balance:
			return fmt.Errorf("fund: %s reserved %v outside [0, balance %v]", name, a.reserved, a.balance)
		case a.reserved != held[name]:
			return fmt.Errorf("fund: %s reserved %v, reservations hold %v", name, a.reserved, held[name])
		case a.balance != a.life.Net():
			return fmt.Errorf("fund: %s balance %v, flows net %v", name, a.balance, a.life.Net())
		}
	}
	return nil
}
