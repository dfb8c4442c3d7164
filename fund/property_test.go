package fund

import (
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/market"
)

// TestFundNeverNegativeUnderInterleavedLiquidations runs many liquidations
// in flight at once (the fund actor sees their reserve, fill and release
// messages interleaved in any order), with deficits that often exceed what
// was reserved, and checks after every step: no balance below zero,
// reservations never above the balance, a deficit within its reservation is
// always paid in full, and the balance equals the flows it reported.
func TestFundNeverNegativeUnderInterleavedLiquidations(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	assets := []string{"USDT", "USDC"}
	f := mustNew(t, Config{HistoryCap: 64, DailyCap: 3})
	type open struct {
		asset string
		left  market.Money // what the reservation still holds, by the test's account
	}
	inflight := map[ReservationID]*open{}
	var ids []ReservationID // in-flight ids, for a reproducible pick
	net := map[string]market.Money{}
	nextID := ReservationID(1)
	for step := range 5_000 {
		now := int64(step) * 3_600_000 // an hour a step: days roll over
		asset := assets[rng.IntN(len(assets))]
		switch op := rng.IntN(10); {
		case op == 0:
			amt := market.Money(rng.Int64N(int64(usdt(500))))
			if _, err := f.Deposit(asset, amt, now); err != nil {
				t.Fatal(err)
			}
			net[asset] += amt
		case op <= 3 || len(inflight) == 0:
			need := market.Money(rng.Int64N(int64(usdt(300))))
			avail := f.Available(asset)
			got, err := f.Reserve(nextID, asset, need)
			if err != nil || got != min(need, avail) {
				t.Fatalf("reserve %v with %v available: got %v, %v", need, avail, got, err)
			}
			inflight[nextID] = &open{asset, got}
			ids = append(ids, nextID)
			nextID++
		default:
			pick := rng.IntN(len(ids))
			id := ids[pick]
			o := inflight[id]
			if op == 9 {
				back, err := f.Release(id)
				if err != nil || back != o.left {
					t.Fatalf("release %d: %v (%v), want %v", id, back, err, o.left)
				}
				delete(inflight, id)
				ids = append(ids[:pick], ids[pick+1:]...)
				break
			}
			pnl := market.Money(rng.Int64N(int64(usdt(400)))) - usdt(300)
			fee := market.Money(rng.Int64N(int64(usdt(2))))
			out, err := f.Settle(id, Settlement{Asset: o.asset, PnL: pnl, Fee: fee, Volume: usdt(1000), TimeMs: now})
			if err != nil {
				t.Fatal(err)
			}
			if pnl < 0 {
				if out.Covered+out.Uncovered != -pnl || (-pnl <= o.left && out.Uncovered != 0) {
					t.Fatalf("deficit %v with %v reserved: covered %v, uncovered %v", -pnl, o.left, out.Covered, out.Uncovered)
				}
				o.left = max(0, o.left-out.Covered)
			}
			net[o.asset] += fee + max(pnl, 0) - out.Covered
		}
		held := map[string]market.Money{}
		for _, o := range inflight {
			held[o.asset] += o.left
		}
		for _, a := range assets {
			if b := f.Balance(a); b < 0 || b != net[a] || f.Reserved(a) != held[a] || f.Available(a) < 0 {
				t.Fatalf("step %d %s: balance %v (flows %v), reserved %v (held %v)", step, a, b, net[a], f.Reserved(a), held[a])
			}
		}
		if err := f.Check(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	if h := f.History(nil, 0); len(h) != 64 || h[63].Seq != f.seq {
		t.Fatalf("history kept %d, last seq %d of %d", len(h), h[len(h)-1].Seq, f.seq)
	}
	if d := f.Days("USDT", nil); len(d) != 3 {
		t.Fatalf("kept %d days, cap 3", len(d))
	}
}
