package risk

import "testing"

// TestCodesAreNamed: every Code has its own name, so a code added without
// one fails here rather than showing up as INTERNAL.
func TestCodesAreNamed(t *testing.T) {
	cs := Codes()
	if len(cs) != int(numCodes) || cs[0] != OK {
		t.Fatalf("Codes() = %v", cs)
	}
	seen := map[string]Code{}
	for _, c := range cs {
		name := codeNames[c]
		if prev, dup := seen[name]; name == "" || dup {
			t.Errorf("code %d: name %q (also code %d)", c, name, prev)
		}
		seen[name] = c
	}
}
