package challenge

import (
	"testing"
)

// FuzzVerifyReveal feeds the verifier arbitrary leaves, sibling counts and
// lengths, roots and indices derived from a real reveal. It must never
// panic, and any change to a byte the proof depends on must be rejected.
func FuzzVerifyReveal(f *testing.F) {
	key, p, cm, idx, rev := honestReveal(f)
	f.Add(uint8(0), uint16(0), uint8(0), uint8(0), []byte{})
	f.Add(uint8(1), uint16(5), uint8(1), uint8(3), []byte{0xff})
	f.Add(uint8(2), uint16(63), uint8(2), uint8(0), []byte{1, 2, 3})
	f.Add(uint8(3), uint16(7), uint8(4), uint8(9), []byte{})
	f.Add(uint8(4), uint16(1), uint8(15), uint8(1), make([]byte, 40))
	f.Fuzz(func(t *testing.T, op uint8, pos uint16, which uint8, sib uint8, data []byte) {
		r := cloneReveal(rev)
		ix := append([]Index(nil), idx...)
		o := &r.Openings[int(which)%len(r.Openings)]
		changed := true
		switch op % 6 {
		case 0: // flip a leaf bit
			o.Leaf[int(pos)%len(o.Leaf)] ^= 1 << (pos % 8)
		case 1: // replace the leaf
			o.Leaf = data
			changed = string(data) != string(rev.Openings[int(which)%len(r.Openings)].Leaf)
		case 2: // cut or extend the path
			if int(sib)%2 == 0 && len(o.Siblings) > 0 {
				o.Siblings = o.Siblings[:int(sib)%len(o.Siblings)]
			} else {
				o.Siblings = append(o.Siblings, data)
			}
		case 3: // replace a sibling
			k := int(sib) % len(o.Siblings)
			changed = string(data) != string(o.Siblings[k])
			o.Siblings[k] = data
		case 4: // move the index
			x := &ix[int(which)%len(ix)]
			old := *x
			x.I, x.J, x.B = uint32(pos)%(2*p.N), uint32(sib)*3, uint32(op)%(p.M+1)
			changed = *x != old
		case 5: // replace a root
			k := int(sib) % len(r.Roots)
			changed = string(data) != string(r.Roots[k])
			r.Roots[k] = data
		}
		err := VerifyReveal(key, p, cm, ix, r)
		if changed && err == nil {
			// An index moved to another entry of the same leaf still
			// verifies: the leaf holds 16 correct entries.
			if op%6 == 4 {
				return
			}
			t.Fatalf("op %d: a changed reveal verified", op%6)
		}
		if !changed && err != nil {
			t.Fatalf("op %d: the honest reveal failed: %v", op%6, err)
		}
	})
}

// FuzzRootFromPath never panics on arbitrary indices and siblings.
func FuzzRootFromPath(f *testing.F) {
	f.Add(uint64(0), []byte{}, 0)
	f.Add(uint64(5), make([]byte, 64), 2)
	f.Add(uint64(1<<40), make([]byte, 31), 1)
	f.Fuzz(func(t *testing.T, index uint64, data []byte, n int) {
		if n < 0 {
			n = -n
		}
		n %= 70
		sibs := make([][]byte, n)
		for i := range sibs {
			if len(data) >= 32 {
				sibs[i] = data[:32]
			} else {
				sibs[i] = data
			}
		}
		_, _ = RootFromPath(index, [32]byte{}, sibs)
	})
}
