package cli_test

import (
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/x/proofofcompute/client/cli"
)

// Argument errors name the argument and its value.
func TestArgumentErrors(t *testing.T) {
	for _, s := range []string{"", "0", "-1", "seven"} {
		_, err := cli.ParseChallengeID(s)
		require.ErrorContains(t, err, `challenge id "`+s+`"`)
	}
	id, err := cli.ParseChallengeID(" 12 ")
	require.NoError(t, err)
	require.Equal(t, uint64(12), id)

	_, err = cli.ParseHash32("--samples-hash", "zz")
	require.ErrorContains(t, err, `--samples-hash "zz": not hex`)
	_, err = cli.ParseHash32("--samples-hash", "abcd")
	require.ErrorContains(t, err, "want 32 bytes, got 2")
	h := sha256.Sum256(nil)
	bz, err := cli.ParseHash32("x", "0x"+hexString(h[:]))
	require.NoError(t, err)
	require.Equal(t, h[:], bz)

}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
