package book

import "testing"

// TestRejectCodesAreNamed: every RejectCode has its own name (String's
// fallback is INTERNAL), so a code added without one fails here.
func TestRejectCodesAreNamed(t *testing.T) {
	cs := RejectCodes()
	if len(cs) != int(numRejectCodes) || cs[0] != OK {
		t.Fatalf("RejectCodes() = %v", cs)
	}
	seen := map[string]RejectCode{}
	for _, c := range cs {
		name := c.String()
		if prev, dup := seen[name]; name == "INTERNAL" || dup {
			t.Errorf("code %d: name %q (also code %d)", c, name, prev)
		}
		seen[name] = c
	}
}
