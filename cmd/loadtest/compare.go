package main

import (
	"context"
	"fmt"
	"io"

	"github.com/perpx/perpx/loadtest"
)

// compareEcho runs the echo floor and then the exchange with the same
// configuration (rate, mix, seed, duration), one after the other in this
// process, and prints both and their ratio after the exchange's report.
func compareEcho(ctx context.Context, cfg loadtest.Config, o *options, stdout, stderr io.Writer) int {
	echoCfg := cfg
	if cfg.RunID != "" {
		echoCfg.RunID = cfg.RunID + "-echo"
	}
	var reps [2]*loadtest.Report
	for i, m := range []struct {
		title, echo string
		cfg         loadtest.Config
	}{{"echo floor (--echo inproc):", "inproc", echoCfg}, {"exchange (--embedded):", "", cfg}} {
		if cfg.Progress != nil {
			fmt.Fprintln(cfg.Progress, m.title)
		}
		rep, err := measure(ctx, m.cfg, o, m.echo, m.echo == "") // profiles: the exchange's run
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
		reps[i] = rep
	}
	reps[1].Echo = loadtest.CompareEcho(reps[0], reps[1])
	return output(reps[1], o, stdout, stderr)
}
