package main

import (
	"context"
	"fmt"
	"io"

	"github.com/perpx/perpx/loadtest"
)

// p99Goal is issue 21's goal: the exchange's p99 at most this many times
// the echo's, measured in the same run.
const p99Goal = 1.5

// compareEcho runs the echo floor and then the exchange with the same
// configuration (rate, mix, seed, duration), one after the other in this
// process, and prints both and their ratio after the exchange's report.
func compareEcho(ctx context.Context, cfg loadtest.Config, o *options, stdout, stderr io.Writer) int {
	echoCfg := cfg
	if cfg.RunID != "" {
		echoCfg.RunID = cfg.RunID + "-echo"
	}
	if cfg.Progress != nil {
		fmt.Fprintln(cfg.Progress, "echo floor (--echo inproc):")
	}
	echo, err := measure(ctx, echoCfg, o, "inproc", false)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	if cfg.Progress != nil {
		fmt.Fprintln(cfg.Progress, "exchange (--embedded):")
	}
	rep, err := measure(ctx, cfg, o, "", true)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	rep.Echo = loadtest.CompareEcho(echo, rep)
	return output(rep, o, stdout, stderr)
}
