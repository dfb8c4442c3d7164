package adl

import (
	"encoding/binary"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// FuzzRanking drives a ranking with arbitrary calls, sane or not: nothing may
// panic, the internal state must stay consistent (trees synced lazily), Top must list the naive
// ranking, and a successful Deleverage (alone or in a batch) must cover
// what it reports.
func FuzzRanking(f *testing.F) {
	f.Add([]byte{0, 1, 1, 10, 0, 100, 0, 10, 3, 30, 1, 2, 2, 10, 0, 90, 0, 5, 2, 0, 0, 0, 0, 0, 0, 0, 4, 1, 1, 5, 0, 95})
	f.Add([]byte{0, 7, 2, 255, 255, 255, 255, 255, 3, 0, 0, 0, 0, 1, 4, 7, 2, 3, 0, 0})
	f.Add([]byte{0, 1, 1, 10, 0, 100, 0, 10, 0, 2, 1, 12, 0, 100, 0, 10, 1, 3, 2, 30, 1, 2, 2, 10, 2, 0, 0, 0, 0, 90, 0, 5,
		6, 1, 1, 12, 0, 95, 0, 0, 4, 0, 2, 20, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rk := mustNew(t, Config{Multiplier: 1_000})
		var closes []Close
		for len(data) >= 8 {
			op, acct, side := data[0]%7, book.AccountID(data[1]%8), book.Side(data[2]%3)
			v := int64(binary.LittleEndian.Uint32(data[4:8])) - 1<<20
			w := int64(data[3]) - 8
			data = data[8:]
			switch op {
			case 0, 1:
				_ = rk.Update(acct, side, book.Lots(w), market.Money(v), market.Money(v/(1+w&7)))
			case 2:
				_ = rk.SetMark(book.Ticks(v))
			case 3:
				before := rk.OpenInterest(side.Opposite())
				out, err := rk.Deleverage(Request{Account: acct, Side: side, Qty: book.Lots(w), Price: book.Ticks(v)}, closes[:0])
				if err == nil {
					var sum book.Lots
					for _, c := range out.Closes {
						sum += c.Qty
					}
					if sum != out.Covered || out.Covered+out.Uncovered != book.Lots(w) || rk.OpenInterest(side.Opposite()) != before-sum {
						t.Fatalf("deleverage %+v covered %d of %d", out, sum, w)
					}
					closes = out.Closes
				}
			case 4:
				top, err := rk.Top(side, int(w), nil)
				if err == nil && validSide(side) {
					ref := reference(rk, side)
					for i := range top {
						if top[i].Account != ref[i].acct {
							t.Fatalf("Top %v rank %d is %d, naive %d", side, i+1, top[i].Account, ref[i].acct)
						}
					}
				}
				_, _ = rk.Indicator(acct, v)
			case 5:
				_, _ = rk.Socialize(side, market.Money(v), nil)
			case 6: // a batch of three requests, the next two accounts on
				reqs := []Request{{acct, side, book.Lots(w), book.Ticks(v)},
					{(acct + 1) % 8, side, book.Lots(w / 2), book.Ticks(v)}, {(acct + 2) % 8, side.Opposite(), 1, book.Ticks(v)}}
				before := rk.OpenInterest(Long) + rk.OpenInterest(Short)
				res, _ := rk.DeleverageBatch(reqs, nil, nil)
				var sum book.Lots
				for i, r := range res {
					var n book.Lots
					for _, c := range r.Closes {
						n += c.Qty
					}
					if r.Err == nil && (n != r.Covered || r.Covered+r.Uncovered != reqs[i].Qty) {
						t.Fatalf("batch request %d %+v: %+v", i, reqs[i], r)
					}
					sum += 2 * n
				}
				if after := rk.OpenInterest(Long) + rk.OpenInterest(Short); after != before-sum {
					t.Fatalf("batch: open interest %d → %d, closed %d", before, after, sum)
				}
			}
			// Checked now and then, not after every call: Check brings
			// the trees up to date, and the reports between walks are
			// what the lazy trees must get right.
			if w&3 == 0 {
				if err := rk.Check(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := rk.Check(); err != nil {
			t.Fatal(err)
		}
	})
}
