package app

import (
	"context"
	"time"
)

// Kill stops the instance as kill -9 would, as far as the cluster can
// tell: its NATS connections are closed at once, abruptly (no drain, no
// lease released, nothing flushed). The process's own goroutines, none of
// which can reach NATS any more, are stopped in the background; the
// returned channel is closed when they are.
func (a *App) Kill() <-chan struct{} {
	a.termMu.RLock()
	tnc := a.tnc
	a.termMu.RUnlock()
	if tnc != nil {
		tnc.Close()
	}
	a.nc.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	}()
	return done
}
