package cmd

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

const flagOutput = "output"

// addOutputFlag adds -o text|json to a command that reports a result.
// The JSON shapes are stable: fields are added, never renamed or removed.
func addOutputFlag(cmd *cobra.Command) {
	cmd.Flags().StringP(flagOutput, "o", "text", "output format: text or json")
}

// jsonOutput reports whether -o json was asked for.
func jsonOutput(cmd *cobra.Command) (bool, error) {
	out, _ := cmd.Flags().GetString(flagOutput)
	switch out {
	case "text":
		return false, nil
	case "json":
		return true, nil
	default:
		return false, fmt.Errorf("--%s %q: want text or json", flagOutput, out)
	}
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	bz, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(bz, '\n'))
	return err
}
