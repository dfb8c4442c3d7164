package natscluster

import (
	"testing"
	"time"
)

// Three servers route to each other only through the proxies: a
// partitioned server has no route left, and gets them back when healed.
func TestPartitionAndHeal(t *testing.T) {
	c, err := Start(3, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Partition(0)
	waitFor(t, "s0 without routes", func() bool { return c.Servers[0].NumRoutes() == 0 && c.Servers[1].NumRoutes() >= 1 })
	c.Heal(0)
	waitFor(t, "s0 routed again", func() bool { return c.Servers[0].NumRoutes() == 2 })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
