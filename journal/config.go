package journal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrConfig: the Config is invalid, or the stream exists with settings
// the journal cannot rely on.
var ErrConfig = errors.New("journal: bad configuration")

// Config names the journal's stream and tunes the writer. Zero values
// take the defaults.
type Config struct {
	// Stream is the JetStream stream's name (required).
	Stream string
	// Subject is the one subject the stream holds (required).
	Subject string
	// Replicas of the stream: 1 by default, 3 on a cluster.
	Replicas int
	// MaxBatch is the most records in one batch: 1024 by default.
	MaxBatch int
	// MaxBatchBytes is the largest encoded batch: by default 1 MiB or the
	// server's max_payload less room for headers, whichever is smaller.
	MaxBatchBytes int
	// MaxDelay is how long a record may wait for company while earlier
	// batches are in flight: 200µs by default, negative for never. With
	// nothing in flight a batch leaves at once.
	MaxDelay time.Duration
	// MaxInFlight is the most batches published and not yet acknowledged:
	// 4 by default.
	MaxInFlight int
	// MaxPending is the most records appended and not yet durable; Append
	// blocks beyond it: 4 × MaxBatch by default.
	MaxPending int
	// Timeout bounds each JetStream request and each batch's
	// acknowledgement: 5 s by default.
	Timeout time.Duration
}

// headerRoom is what the publish headers (message id, expected last
// sequence and message id) take of max_payload, with a margin.
const headerRoom = 1024

// withDefaults validates c and fills in its zero values; nc gives the
// server's max_payload.
func (c Config) withDefaults(nc *nats.Conn) (Config, error) {
	if c.Stream == "" || c.Subject == "" {
		return c, fmt.Errorf("%w: stream and subject are required", ErrConfig)
	}
	limit := int(nc.MaxPayload()) - headerRoom
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Replicas, 1)
	def(&c.MaxBatch, 1024)
	def(&c.MaxBatchBytes, min(1<<20, limit))
	def(&c.MaxInFlight, 4)
	def(&c.MaxPending, 4*c.MaxBatch)
	if c.MaxDelay == 0 {
		c.MaxDelay = 200 * time.Microsecond
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	switch {
	case c.Replicas < 1 || c.MaxBatch < 1 || c.MaxInFlight < 1 || c.Timeout < 0:
		return c, fmt.Errorf("%w: %+v", ErrConfig, c)
	case c.MaxPending < c.MaxBatch:
		return c, fmt.Errorf("%w: MaxPending %d below MaxBatch %d", ErrConfig, c.MaxPending, c.MaxBatch)
	case c.MaxBatchBytes < minBatchSize || c.MaxBatchBytes > limit:
		return c, fmt.Errorf("%w: MaxBatchBytes %d outside [%d, %d] (server max_payload %d)",
			ErrConfig, c.MaxBatchBytes, minBatchSize, limit, nc.MaxPayload())
	}
	return c, nil
}

// streamConfig is the stream Open creates. The journal is only ever
// trimmed by Trim: no limit may drop records behind its back.
func (c Config) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:      c.Stream,
		Subjects:  []string{c.Subject},
		Storage:   jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy,
		Replicas:  c.Replicas,
		MaxMsgs:   -1,
		MaxBytes:  -1,
		// Every batch carries a message id for the writer's chain (see
		// Writer); nothing is ever retried, so the server need remember
		// them only for the shortest window it allows.
		Duplicates: 100 * time.Millisecond,
	}
}

// check refuses a stream whose settings could lose, reorder or interleave
// batches.
func (c Config) check(got jetstream.StreamConfig) error {
	var bad []string
	if !slices.Equal(got.Subjects, []string{c.Subject}) {
		bad = append(bad, fmt.Sprintf("subjects %q, want only %q", got.Subjects, c.Subject))
	}
	if got.Storage != jetstream.FileStorage {
		bad = append(bad, "memory storage")
	}
	if got.Retention != jetstream.LimitsPolicy {
		bad = append(bad, fmt.Sprintf("retention %v", got.Retention))
	}
	if got.MaxMsgs > 0 || got.MaxBytes > 0 || got.MaxAge > 0 || got.MaxMsgsPerSubject > 0 {
		bad = append(bad, "limits that drop messages")
	}
	if got.MaxMsgSize > 0 && int(got.MaxMsgSize) < c.MaxBatchBytes+headerRoom {
		bad = append(bad, fmt.Sprintf("max message size %d below MaxBatchBytes", got.MaxMsgSize))
	}
	if got.Replicas != c.Replicas {
		bad = append(bad, fmt.Sprintf("%d replicas, want %d", got.Replicas, c.Replicas))
	}
	if got.NoAck || got.DenyPurge || got.Sealed {
		bad = append(bad, "no acks, no purge or sealed")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: stream %s: %v", ErrConfig, c.Stream, bad)
	}
	return nil
}

// stream returns the journal's stream, creating it when create is set; nil
// without an error when it does not exist and create is not set.
func (c Config) stream(ctx context.Context, js jetstream.JetStream, create bool) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, c.Stream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound) && create:
		st, err = js.CreateStream(ctx, c.streamConfig())
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: stream %s: %w", c.Stream, err)
	}
	if err := c.check(st.CachedInfo().Config); err != nil {
		return nil, err
	}
	return st, nil
}
