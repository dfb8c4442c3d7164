//go:build race

package app_test

// raceEnabled: the race detector slows everything several times.
const raceEnabled = true
