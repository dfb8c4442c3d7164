// Package gctune sets the Go garbage collector for a long-running exchange
// process: a higher GC percentage than Go's 100 (fewer collections; at 400
// BenchmarkNATSOrders spent 10 % less CPU an order, bench/README.md "Stop
// 23") held by a soft memory limit of three quarters of the machine's or
// the container's memory, so a heap that grows large is collected more
// often instead of running the machine out of memory. What an operator set
// (GOGC, GOMEMLIMIT) wins. Standard library only.
package gctune

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Default is the GC percentage the exchange's binaries apply.
const Default = 400

// Setting is what Apply set; a zero field was left as it was.
type Setting struct {
	Percent int   // GC percentage
	Limit   int64 // soft memory limit, bytes
}

// Apply raises the GC percentage to percent (0 or less: leaves the GC
// alone) unless GOGC is set, and sets the memory limit unless GOMEMLIMIT
// is; without a limit (neither set nor found) the percentage is left too.
func Apply(percent int) Setting {
	var s Setting
	if percent <= 0 {
		return s
	}
	limited := os.Getenv("GOMEMLIMIT") != ""
	if !limited {
		if m := memory(); m > 0 {
			s.Limit = m / 4 * 3
			debug.SetMemoryLimit(s.Limit)
			limited = true
		}
	}
	if limited && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
		s.Percent = percent
	}
	return s
}

// memory is the memory this process may use: the machine's, or its
// cgroup's limit when lower; 0 when neither can be read.
func memory() int64 {
	m := int64(0)
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m = memTotal(string(b))
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if c := cgroupMax(string(b)); c > 0 && (m == 0 || c < m) {
			m = c
		}
	}
	return m
}

// memTotal reads MemTotal (kB) from /proc/meminfo's text, in bytes.
func memTotal(meminfo string) int64 {
	for line := range strings.Lines(meminfo) {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb > 0 {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupMax reads cgroup v2's memory.max: bytes, or 0 for "max" (none).
func cgroupMax(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
