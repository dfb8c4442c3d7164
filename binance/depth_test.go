package binance

import (
	"encoding/json"
	"testing"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// TestDepthGapInsidePeriod: a book update lost inside one period (the
// face's subscription fell behind) is not hidden by the merge: pu is 0, no
// previous u, so a client following Binance's rule re-syncs; without a
// gap pu is U−1.
func TestDepthGapInsidePeriod(t *testing.T) {
	for _, c := range []struct {
		seqs []uint64
		pu   float64
	}{{[]uint64{5, 6, 7}, 4}, {[]uint64{5, 7}, 0}} {
		a := &depthAgg{bids: map[string]wire.Level{}, asks: map[string]wire.Level{}}
		for _, s := range c.seqs {
			b, _ := json.Marshal(wire.BookUpdate{Seq: s})
			a.add(b)
		}
		var ev map[string]any
		if err := json.Unmarshal(a.flush("BTCUSDT"), &ev); err != nil {
			t.Fatal(err)
		}
		if ev["U"] != float64(c.seqs[0]) || ev["u"] != float64(c.seqs[len(c.seqs)-1]) || ev["pu"] != c.pu {
			t.Errorf("updates %v: %v, want pu %v", c.seqs, ev, c.pu)
		}
	}
}

// TestAlgoStatusFinished: a conditional order that fired, filled some and
// whose rest was canceled (or expired) is FINISHED, as Binance's algo
// service says of a triggered order done in the book; one canceled before
// filling anything is CANCELED.
func TestAlgoStatusFinished(t *testing.T) {
	for _, c := range []struct {
		status wire.Status
		filled string
		want   string
	}{{wire.StatusCanceled, "0.1", "FINISHED"}, {wire.StatusExpired, "0.1", "FINISHED"}, {wire.StatusFilled, "0.2", "FINISHED"},
		{wire.StatusCanceled, "0", "CANCELED"}, {wire.StatusUntriggered, "0", "NEW"}, {wire.StatusPartiallyFilled, "0.1", "TRIGGERED"}} {
		o := &wire.Order{Status: c.status, FilledQty: decimal.RequireFromString(c.filled)}
		if got := algoStatus(o); got != c.want {
			t.Errorf("%s with %s filled: %s, want %s", c.status, c.filled, got, c.want)
		}
	}
}
