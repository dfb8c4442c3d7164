// Package natscluster runs a NATS cluster of embedded servers on loopback,
// for the tests and benchmarks of a clustered exchange: JetStream on every
// server (file store, every write fsynced, as natsrv), and every route
// through a proxy of its own, so that a server can be cut off from the
// others (Partition) and let back (Heal), or stopped (Stop).
package natscluster
