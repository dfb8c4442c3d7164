package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	eventually(t, "the replay", func() error {
		got := strings.Join(e.marks(tsym), " ")
		if got != "3000 3011 2990" && got != "3011 2990" {
			return fmt.Errorf("index ticks %q, want 3000 3011 2990 (the first may precede the subscription)", got)
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
