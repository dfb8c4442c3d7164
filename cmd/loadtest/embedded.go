package main

import "context"

// EmbeddedOptions is what --embedded asks of the in-process exchange.
type EmbeddedOptions struct {
	// ManualIndex starts the exchange with --index manual, so the load
	// test sets the index and its shock is the only move.
	ManualIndex bool
	Prefix      string
	// Data makes the exchange durable, its journal in this directory
	// ("" in memory).
	Data string
}

// startEmbedded starts an exchange in this process for --embedded and
// returns its NATS URL and a stop function.
//
// HOOK for the lead: nil until app/ exists. Wire it in a file of this
// package once app.Start lands, e.g.
//
//	func init() { startEmbedded = func(ctx context.Context, o EmbeddedOptions) (string, func(), error) { … app.Start(…) … } }
//
// listening on 127.0.0.1:-1 so it never collides with a running exchange.
var startEmbedded func(ctx context.Context, o EmbeddedOptions) (url string, stop func(), err error)
