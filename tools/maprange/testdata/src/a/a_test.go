package a

import "testing"

// Test files are not state-machine code: no report here.
func TestMapRange(t *testing.T) {
	for k, v := range map[string]int{"a": 1} {
		t.Log(k, v)
	}
}
