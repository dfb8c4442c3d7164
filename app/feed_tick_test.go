package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/perpx/perpx/wire"
)

// The exchange refuses an index off the symbol's tick (TEST-PERP's is 1);
// the replay and nats feeds round to the nearest tick before they set it,
// so a recorded or outside price of any precision still moves the index.
func TestFeedsRoundToTheTick(t *testing.T) {
	file := filepath.Join(t.TempDir(), "prices.csv")
	csv := "time_ms,symbol,price\n1000,TEST-PERP,3000.4\n2000,TEST-PERP,3010.5\n3000,TEST-PERP,2990.49\n"
	if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	e := start(t, seedConfig(t, longTiers()...), startOpts{index: "replay:" + file, speed: 10})
	// The recorded times are all in minute 0: its mark candle holds every
	// tick, whenever the test looks.
	eventually(t, "the replay", func() error {
		ks := e.klines(wire.Klines{Interval: "1m", Source: wire.SourceMark, EndMs: 3000})
		if len(ks) != 1 || kline(ks[0]) != "3000 3011 2990 2990 0 0" {
			return fmt.Errorf("mark candles %+v, want 3000 3011 2990 2990", ks)
		}
		return nil
	})

	n := start(t, seedConfig(t, longTiers()...), startOpts{index: "nats:feed.prices"})
	for _, msg := range []string{`{"symbol":"TEST-PERP","price":"3000.2"}`, `{"symbol":"TEST-PERP","price":3050.7}`} {
		if err := n.nc.Publish("feed.prices", []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	wantMarks(n, "3000", "3051")
}
