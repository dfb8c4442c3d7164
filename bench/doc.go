// Package bench measures the exchange layer by layer with one and the same
// order flow: the bare book, the actors (risk → book → settle on both
// sides) and the whole exchange over NATS. Comparing them gives what each
// layer costs over the one below (see README.md here for the numbers).
// Single-layer micro-benchmarks live next to their code (book, risk, adl,
// wire, gateway, actors).
package bench
