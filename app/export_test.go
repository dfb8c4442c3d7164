package app

import (
	"context"
	"time"
)

// Kill stops the instance as kill -9 would, as far as the cluster can
// tell: its NATS connection is closed first, abruptly (no drain, no lease
// released, nothing flushed), then the process's own goroutines are
// stopped, none of which can reach NATS any more.
func (a *App) Kill() {
	a.nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.Close(ctx)
}
