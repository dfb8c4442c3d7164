package adl

import (
	"encoding/binary"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// FuzzRanking drives a ranking with arbitrary calls, sane or not: nothing may
// panic, the internal state must stay consistent, and a successful
// Deleverage must cover what it reports.
func FuzzRanking(f *testing.F) {
	f.Add([]byte{0, 1, 1, 10, 0, 100, 0, 10, 3, 30, 1, 2, 2, 10, 0, 90, 0, 5, 2, 0, 0, 0, 0, 0, 0, 0, 4, 1, 1, 5, 0, 95})
	f.Add([]byte{0, 7, 2, 255, 255, 255, 255, 255, 3, 0, 0, 0, 0, 1, 4, 7, 2, 3, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rk := mustNew(t, Config{Multiplier: 1_000})
		var closes []Close
		for len(data) >= 8 {
			op, acct, side := data[0]%6, book.AccountID(data[1]%8), book.Side(data[2]%3)
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
				_, _ = rk.Top(side, int(w), nil)
				_, _ = rk.Indicator(acct, v)
			case 5:
				_, _ = rk.Socialize(side, market.Money(v), nil)
			}
			if err := rk.Check(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
