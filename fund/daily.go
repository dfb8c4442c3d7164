package fund

import (
	"cmp"
	"slices"
	"time"

	"github.com/perpx/perpx/market"
)

// msPerDay is the length of a UTC day; days are counted from 1970-01-01.
const msPerDay = 86_400_000

// DayOf returns the UTC day number of a Unix-millisecond time.
func DayOf(timeMs int64) int64 {
	d := timeMs / msPerDay
	if timeMs%msPerDay < 0 {
		d--
	}
	return d
}

// Totals are sums of fund flows, per day (Daily) or since start (Lifetime).
type Totals struct {
	Liquidations      int          // Settle calls
	LiquidationVolume market.Money // notional liquidated
	Deposits          market.Money // inflow
	Surplus           market.Money // inflow
	Fees              market.Money // inflow
	Deficits          market.Money // outflow: deficits the fund paid
	Uncovered         market.Money // deficits it could not pay (sent to ADL)
	ADL               int          // positions auto-deleveraged (RecordADL)
}

// Inflow is deposits + surplus + fees.
func (t Totals) Inflow() market.Money { return t.Deposits + t.Surplus + t.Fees }

// Outflow is the deficits paid.
func (t Totals) Outflow() market.Money { return t.Deficits }

// Net is inflow − outflow.
func (t Totals) Net() market.Money { return t.Inflow() - t.Outflow() }

// Daily is one asset's totals for one UTC day.
type Daily struct {
	Asset string
	Day   int64 // DayOf: days since 1970-01-01 UTC
	Totals
}

// Date is the day as YYYY-MM-DD.
func (d Daily) Date() string { return time.UnixMilli(d.Day * msPerDay).UTC().Format(time.DateOnly) }

// day returns the asset's totals for a day, creating them; it keeps at most
// cap days, dropping the oldest.
func (a *assetState) day(name string, day int64, cap int) *Daily {
	n := len(a.days)
	if n > 0 && a.days[n-1].Day == day {
		return &a.days[n-1]
	}
	i, found := a.find(day)
	if !found {
		a.days = slices.Insert(a.days, i, Daily{Asset: name, Day: day})
		if len(a.days) > cap {
			a.days = slices.Delete(a.days, 0, 1)
			if i == 0 { // older than everything kept: count it nowhere
				return &Daily{}
			}
			i--
		}
	}
	return &a.days[i]
}

// find locates a day in the ascending days.
func (a *assetState) find(day int64) (int, bool) {
	return slices.BinarySearchFunc(a.days, day, func(d Daily, day int64) int { return cmp.Compare(d.Day, day) })
}

// Days appends an asset's kept daily totals, oldest first.
func (f *Fund) Days(asset string, dst []Daily) []Daily {
	if a, ok := f.assets[asset]; ok {
		dst = append(dst, a.days...)
	}
	return dst
}

// Day returns an asset's totals for one UTC day.
func (f *Fund) Day(asset string, day int64) (Daily, bool) {
	a, ok := f.assets[asset]
	if !ok {
		return Daily{}, false
	}
	if i, found := a.find(day); found {
		return a.days[i], true
	}
	return Daily{}, false
}

// Lifetime returns an asset's totals since the fund started.
func (f *Fund) Lifetime(asset string) Totals {
	if a, ok := f.assets[asset]; ok {
		return a.life
	}
	return Totals{}
}

// RecordADL counts one counterparty position closed by auto-deleveraging
// against a bankrupt position settled in asset: the fund's daily report
// says how often its shortfalls fell on traders.
func (f *Fund) RecordADL(asset string, timeMs int64) {
	a := f.asset(asset)
	a.life.ADL++
	a.day(asset, DayOf(timeMs), f.cfg.DailyCap).ADL++
}
