// Package journal owns the exchange's write-ahead journal on JetStream: the
// batch format, a group-commit writer and the reader that replays it. A
// record is an opaque payload with a kind and an actor number; its
// sequence is dense from 1. What the records mean, and how the exchange is
// rebuilt from them, is the caller's business: journal imports nats.go and
// never the actors or the cores.
//
//   - Batch format (batch.go): one JetStream message holds one batch of
//     records with a CRC-32C trailer; DecodeBatch verifies everything and
//     answers ErrCorrupt or ErrVersion, never a panic.
//   - Writer (writer.go): Append assigns the sequence and returns at once;
//     one goroutine packs records into batches and publishes several at a
//     time, each expected right behind the previous one, so a second writer
//     fences the first (ErrFenced). A record's callback runs once the
//     server has stored its batch: with natsrv.Options.JetStreamDir that
//     means fsynced.
//   - Read replays from a sequence and refuses gaps and corrupt batches
//     (ErrGap, ErrCorrupt), naming the stream sequence; Trim drops the
//     batches before a snapshot's sequence.
//
// A writer that stopped (fenced, refused, timed out) stays stopped: the
// records it could not confirm may or may not be stored, so its owner
// recovers from the journal rather than guessing.
package journal
