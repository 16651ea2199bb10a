//go:build gpumesh_faults

package cmd

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/prover"
)

// The test build's run takes --fault corrupt-opening and refuses any
// other fault by name.
func TestFaultyBuildParsesFault(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		arg     string
		want    prover.Faults
		wantErr string
	}{
		{arg: "", want: prover.Faults{}},
		{arg: "corrupt-opening", want: prover.Faults{CorruptOpening: true}},
		{arg: "drop-commit", wantErr: `--fault "drop-commit": the only fault is corrupt-opening`},
	} {
		run := runCmd()
		require.NotNil(t, run.Flags().Lookup(flagFault))
		require.NoError(t, run.Flags().Set(flagFault, tc.arg))
		got, err := faultsFromFlags(run, log)
		if tc.wantErr != "" {
			require.EqualError(t, err, tc.wantErr)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
}
