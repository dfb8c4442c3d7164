package app

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/actors"
	"github.com/perpx/perpx/journal"
)

// TestStopsForGood: only the journal's records that every term would
// meet again end an instance (a panic in replay, another behaviour
// version); what a later term may not meet retries.
func TestStopsForGood(t *testing.T) {
	for _, c := range []struct {
		err   error
		fatal bool
	}{
		{fmt.Errorf("%w: record 14: %w: boom", actors.ErrRecover, actors.ErrReplayPanic), true},
		{fmt.Errorf("journal: stream S after record 9: %w: record 9: %w", actors.ErrRecover, actors.ErrBehaviour), true},
		{fmt.Errorf("journal: stream S after record 9: %w", nats.ErrTimeout), false},
		{fmt.Errorf("%w: the journal ends at record 3, the follower applied 7", journal.ErrGap), false},
		{fmt.Errorf("%w: record 5 (kind 2, actor 0x1): damaged", actors.ErrRecover), false},
		{fmt.Errorf("app: taking over the journal after record 9: %w", journal.ErrFenced), false},
		{context.DeadlineExceeded, false},
		{nats.ErrConnectionClosed, false},
	} {
		got := stopsForGood(c.err)
		if (got != nil) != c.fatal || got != nil && !errors.Is(got, c.err) {
			t.Errorf("%v: stops for good: %v, want %v (wrapping it)", c.err, got, c.fatal)
		}
	}
}
