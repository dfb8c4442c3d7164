package main

import (
	"context"

	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/config"
)

// The load test's --embedded exchange: the real wiring on a random loopback
// port, without bots (the load test brings its own makers).
func init() {
	startEmbedded = func(ctx context.Context, o EmbeddedOptions) (string, func(), error) {
		idx := "sim"
		if o.ManualIndex {
			idx = "manual"
		}
		// No per-account rate limit: the load test's few accounts send far
		// more than a trader may.
		cfg := config.Default()
		cfg.RateLimit = config.RateLimit{}
		a, err := app.Start(ctx, app.Options{NATSListen: "127.0.0.1:-1", Prefix: o.Prefix, Index: idx, Config: cfg, Data: o.Data})
		if err != nil {
			return "", nil, err
		}
		return a.URL(), func() { _ = a.Close(context.Background()) }, nil
	}
}
