// Package index owns the index-price sources behind --index: a seeded
// random walk (sim), nothing (manual: only the admin subject moves the
// index), a recorded CSV replayed at a speed (replay:FILE) and the parsing
// of an outside feeder's messages (nats:SUBJECT).
//
// Every source is a pure iterator: time is passed in at construction and
// each Tick says when it is due, so tests never sleep. There are no
// goroutines, clocks or NATS imports here; the driver loop that sleeps until
// a tick is due, and the subscription of a nats: feed, live in cmd/exchange
// and the gateway. Prices are decimals; the caller converts them to ticks.
package index
