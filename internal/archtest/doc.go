// Package archtest holds the test that enforces the dependency rules of the
// project's DESIGN.md: pure cores stay pure, only actors imports protoactor-go,
// and the load-test client only speaks the wire schemas over NATS.
package archtest
