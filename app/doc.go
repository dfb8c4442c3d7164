// Package app wires one exchange process: the embedded NATS server (or a
// connection to an outside one), the actor system, the NATS gateway, the
// index-price feed, the built-in liquidity bots and the HTTP metrics port.
// It owns start-up order and clean shutdown and decides nothing about trading.
// cmd/exchange turns flags into Options; tests and cmd/loadtest --embedded
// call Start directly.
package app
