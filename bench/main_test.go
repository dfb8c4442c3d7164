package bench

import (
	"os"
	"testing"

	"github.com/perpx/perpx/internal/gctune"
)

// TestMain runs the benchmarks with the garbage collector as cmd/exchange
// sets it (internal/gctune). GOGC=100 in the environment measures with Go's
// default, as the figures before stop 23 in README.md were.
func TestMain(m *testing.M) {
	gctune.Apply(gctune.Default)
	os.Exit(m.Run())
}
