//go:build race

package main

// raceEnabled: the race detector slows the exchange several times.
const raceEnabled = true
