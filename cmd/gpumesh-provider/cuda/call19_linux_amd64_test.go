//go:build linux && amd64

package cuda

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// The 19-argument trampoline that cublasGemmEx goes through passes every
// argument where the System V convention wants it: snprintf(buf, size,
// format, 16 values) takes 19 integer-class arguments, 13 of them on the
// stack, and prints back what it received.
func TestCall19PassesAllArguments(t *testing.T) {
	lib, err := dlopen("libc.so.6")
	require.NoError(t, err, "glibc's libc.so.6")
	snprintf, err := dlsym(lib, "snprintf")
	require.NoError(t, err)

	buf := make([]byte, 512)
	format := cBytes(strings.TrimSpace(strings.Repeat("%lx ", 16)))
	f := &call19Frame{fn: snprintf}
	f.args[0] = uintptr(unsafe.Pointer(&buf[0]))
	f.args[1] = uintptr(len(buf))
	f.args[2] = uintptr(unsafe.Pointer(&format[0]))
	var want []string
	for i := 3; i < 19; i++ {
		v := uintptr(0x1111111100000000*uint64(i) + uint64(i)) // both halves of each slot
		f.args[i] = v
		want = append(want, fmt.Sprintf("%x", uint64(v)))
	}
	n := call19(f)
	got := cString(&buf[0], len(buf))
	require.Equal(t, strings.Join(want, " "), got)
	require.Equal(t, uintptr(len(got)), n, "return value")
	// Again, to see the stack and registers came back intact.
	for i := 0; i < 100; i++ {
		require.Equal(t, n, call19(f))
	}
}
