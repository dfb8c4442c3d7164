// Package bench measures the exchange layer by layer with one and the same
// order flow: the bare book, bare risk, risk with the ADL ranking, the
// actors (risk → book → settle on both sides) and the whole exchange over
// NATS; and a liquidation cascade through the actors, the load test as a
// benchmark, and the cost of an idle wake-up. Comparing them gives what
// each layer costs over the one below (see README.md here for the
// numbers). Micro-benchmarks of single functions live next to their code
// (book, risk, adl, wire, gateway, actors).
package bench
