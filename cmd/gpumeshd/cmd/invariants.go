package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"

	"github.com/gpumesh/gpumesh/app"
)

// InvariantsCmd is `gpumeshd query invariants`: the node checks every
// gpumesh module's invariants over its state and reports each broken one.
func InvariantsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "invariants",
		Short: "Check every gpumesh module's invariants against a node's state",
		Long: `Ask the node (--node, or client.toml's node) to check every gpumesh module's
invariants over its state at the latest committed height, or at --height if
the node still keeps that height. It prints "ok" or the broken invariants of
each module and exits with status 1 when one is broken (or the node cannot
answer), so scripts can use it; -o json prints the node's report as is.

The node answers only with [gpumesh] invariants-query = true in its app.toml:
the check walks whole stores and the node processes no block while it runs.
Ask a node you run, not a public RPC node. See docs/validator.md.`,
		Example: `gpumeshd query invariants
gpumeshd query invariants --height 1200 -o json --node tcp://127.0.0.1:26657`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			// From here on, errors are about the node's answer, not usage.
			cmd.SilenceUsage = true
			report, raw, err := queryInvariants(cmd, clientCtx)
			if err != nil {
				return err
			}
			if clientCtx.OutputFormat == flags.OutputFormatJSON {
				if _, err := fmt.Fprintln(cmd.OutOrStdout(), string(raw)); err != nil {
					return err
				}
			} else if err := printInvariants(cmd.OutOrStdout(), report); err != nil {
				return err
			}
			if !report.OK {
				return fmt.Errorf("%d invariant violation(s) at height %d: %s", len(report.Broken), report.Height,
					brokenNames(report.Broken))
			}
			return nil
		},
	}
	flags.AddQueryFlagsToCmd(cmd)
	return cmd
}

// queryInvariants asks the node for app.InvariantsQueryPath at the
// context's height (0: the latest) and decodes the report.
func queryInvariants(cmd *cobra.Command, clientCtx client.Context) (app.InvariantsReport, []byte, error) {
	var report app.InvariantsReport
	node, err := clientCtx.GetNode()
	if err != nil {
		return report, nil, err
	}
	res, err := node.ABCIQueryWithOptions(cmd.Context(), app.InvariantsQueryPath, nil,
		rpcclient.ABCIQueryOptions{Height: clientCtx.Height})
	if err != nil {
		return report, nil, fmt.Errorf("query %s at %s: %w", app.InvariantsQueryPath, clientCtx.NodeURI, err)
	}
	if r := res.Response; !r.IsOK() {
		return report, nil, fmt.Errorf("node %s refused %s (%s code %d): %s",
			clientCtx.NodeURI, app.InvariantsQueryPath, r.Codespace, r.Code, r.Log)
	}
	if err := json.Unmarshal(res.Response.Value, &report); err != nil {
		return report, nil, fmt.Errorf("decode the invariants report %q: %w", res.Response.Value, err)
	}
	return report, res.Response.Value, nil
}

// printInvariants writes one line per module, "ok" or its broken
// invariants, then a summary.
func printInvariants(w io.Writer, report app.InvariantsReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "invariants at height %d\n", report.Height)
	for _, module := range report.Modules {
		var broken []app.BrokenInvariant
		for _, v := range report.Broken {
			if v.Module == module {
				broken = append(broken, v)
			}
		}
		if len(broken) == 0 {
			fmt.Fprintf(&b, "  x/%-16s ok\n", module)
			continue
		}
		fmt.Fprintf(&b, "  x/%-16s BROKEN\n", module)
		for _, v := range broken {
			fmt.Fprintf(&b, "    %s: %s\n", v.Invariant, strings.ReplaceAll(v.Message, "\n", "\n      "))
		}
	}
	if report.OK {
		fmt.Fprintf(&b, "all %d modules' invariants hold\n", len(report.Modules))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// brokenNames lists the broken invariants as "x/module name", once each.
func brokenNames(broken []app.BrokenInvariant) string {
	var names []string
	seen := make(map[string]bool)
	for _, v := range broken {
		name := "x/" + v.Module + " " + v.Invariant
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}
