package gctune

import (
	"runtime/debug"
	"testing"
)

func TestMemTotal(t *testing.T) {
	const meminfo = "MemFree:  1000 kB\nMemTotal:       24576000 kB\nBuffers: 1 kB\n"
	if got := memTotal(meminfo); got != 24576000<<10 {
		t.Fatalf("memTotal %d", got)
	}
	for _, bad := range []string{"", "MemTotal: x kB\n", "MemTotal: 5 MB\n", "MemTotal: -5 kB\n"} {
		if got := memTotal(bad); got != 0 {
			t.Fatalf("memTotal(%q) = %d", bad, got)
		}
	}
}

func TestCgroupMax(t *testing.T) {
	for in, want := range map[string]int64{"max\n": 0, "2147483648\n": 2 << 30, "": 0, "-1": 0} {
		if got := cgroupMax(in); got != want {
			t.Fatalf("cgroupMax(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestApply: the percentage and a limit of three quarters of the memory
// are set, unless the operator's environment says otherwise; 0 leaves the
// GC alone.
func TestApply(t *testing.T) {
	old := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(old); debug.SetMemoryLimit(oldLimit) })
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	if s := Apply(0); s != (Setting{}) {
		t.Fatalf("Apply(0) set %+v", s)
	}
	s := Apply(400)
	m := memory()
	if m == 0 {
		t.Skip("no /proc/meminfo here: nothing to limit by")
	}
	if s.Percent != 400 || s.Limit != m/4*3 || debug.SetGCPercent(400) != 400 || debug.SetMemoryLimit(-1) != s.Limit {
		t.Fatalf("Apply(400) = %+v with %d bytes of memory", s, m)
	}
	debug.SetGCPercent(100)
	t.Setenv("GOGC", "150")
	if s := Apply(400); s.Percent != 0 || debug.SetGCPercent(100) != 100 {
		t.Fatalf("GOGC set, yet Apply set %+v", s)
	}
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "1GiB")
	if s := Apply(400); s.Limit != 0 || s.Percent != 400 {
		t.Fatalf("GOMEMLIMIT set: Apply set %+v, want the percentage only", s)
	}
}
