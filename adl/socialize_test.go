package adl

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

func TestSocializeSplitsInProportionToProfit(t *testing.T) {
	rk := mustNew(t, Config{Multiplier: 1, Mode: ModeSocialized}) // 1 tick × 1 lot = 1e-8
	// shorts with profits 1, 1, 1 units at mark 9; one losing short; a long
	open(t, rk, 30, Short, 1, 10, 2)
	open(t, rk, 10, Short, 1, 10, 2)
	open(t, rk, 20, Short, 1, 10, 2)
	open(t, rk, 40, Short, 1, 8, 2)
	open(t, rk, 50, Long, 4, 9, 2)
	_ = rk.SetMark(9)
	out, err := rk.Socialize(Long, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A = min(10, 3) = 3: one unit each, 7 uncovered.
	if out.Charged != 3 || out.Uncovered != 7 || len(out.Charges) != 3 || out.Mark != 9 {
		t.Fatalf("%+v", out)
	}
	out, _ = rk.Socialize(Long, 2, nil)
	// 2 over 1,1,1 with market.Split's rule: the dust goes to the higher
	// accounts (cumulative ⌊2·k/3⌋ = 0, 1, 2)
	want := []Charge{{Account: 10, Profit: 1, Amount: 0}, {Account: 20, Profit: 1, Amount: 1}, {Account: 30, Profit: 1, Amount: 1}}
	for i, c := range out.Charges {
		if c.Account != want[i].Account || c.Profit != want[i].Profit || c.Amount != want[i].Amount {
			t.Fatalf("charges %+v, want %+v", out.Charges, want)
		}
	}
	// At mark 7, as a liquidation quoted before the mark rose to 9, the
	// shorts held 3 each (the losing one 1): 10 is covered there.
	if out, err = rk.SocializeAt(Long, 10, 7, nil); err != nil || out.Charged != 10 || out.Uncovered != 0 || len(out.Charges) != 4 || out.Mark != 7 {
		t.Fatalf("at mark 7: %+v, %v", out, err)
	}
	if _, err := rk.SocializeAt(Long, 1, -1, nil); !errors.Is(err, ErrInvalidPrice) {
		t.Fatalf("negative mark: %v", err)
	}
	if _, err := rk.Socialize(Long, -1, nil); !errors.Is(err, ErrInvalidAmount) {
		t.Fatalf("negative deficit: %v", err)
	}
	if rk.Config().Mode != ModeSocialized || rk.Config().Mode.String() != "socialized" {
		t.Fatal("mode not kept")
	}
}

// TestSocializeProperties: the pieces sum to min(deficit, Σ profit) exactly,
// none exceeds its profit, each is within one unit of its exact share.
func TestSocializeProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	rk := mustNew(t, Config{Multiplier: 10_000})
	load(t, rk, genPopulation(rng, 2000, 1_000_000, rk.cfg.Multiplier))
	var charges []Charge
	for range 40 {
		_ = rk.SetMark(book.Ticks(800_000 + rng.IntN(400_000)))
		side := []book.Side{Long, Short}[rng.IntN(2)]
		deficit := market.Money(rng.Int64N(int64(usdt(5_000_000))))
		out, err := rk.Socialize(side, deficit, charges[:0])
		if err != nil {
			t.Fatal(err)
		}
		charges = out.Charges
		var total, sum market.Money
		for _, c := range out.Charges {
			total += c.Profit
		}
		for _, c := range out.Charges {
			if c.Amount < 0 || c.Amount > c.Profit {
				t.Fatalf("charge %+v outside [0, profit]", c)
			}
			// |amount − A·profit/total| < 1, checked in exact rationals
			share := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(int64(out.Charged)), big.NewInt(int64(c.Profit))), big.NewInt(int64(total)))
			diff := new(big.Rat).Sub(new(big.Rat).SetInt64(int64(c.Amount)), share)
			if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 {
				t.Fatalf("charge %+v is %v away from its share %v", c, diff, share)
			}
			sum += c.Amount
		}
		if sum != out.Charged || out.Charged != min(deficit, total) || out.Charged+out.Uncovered != deficit {
			t.Fatalf("charged %v (pieces %v) + uncovered %v, deficit %v, profit %v", out.Charged, sum, out.Uncovered, deficit, total)
		}
	}
}
