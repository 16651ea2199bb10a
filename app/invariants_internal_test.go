package app

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// A module's error becomes one entry per violation: errors.Join trees are
// split, sdk.FormatInvariant's header names the invariant, any other text
// is the module's unnamed check, and a panic is a violation too.
func TestInvariantCheckSplitsViolations(t *testing.T) {
	format := sdk.FormatInvariant //nolint:staticcheck // the modules' invariants still use it
	check := invariantCheck{module: "market", unnamed: "state", check: func(sdk.Context) error {
		return errors.Join(
			errors.New(format("market", "queues", "entry (5, 1) has no order")),
			errors.Join(errors.New("order a/1: open_bids is 2, 1 bids are open"), nil),
			errors.New(format("escrow", "totals", "another module's header is not ours")),
			errors.New("market: not an invariant header\nsecond line"),
		)
	}}
	require.Equal(t, []BrokenInvariant{
		{"market", "queues", "entry (5, 1) has no order"},
		{"market", "state", "order a/1: open_bids is 2, 1 bids are open"},
		{"market", "state", "escrow: totals invariant\nanother module's header is not ours"},
		{"market", "state", "market: not an invariant header\nsecond line"},
	}, check.run(sdk.Context{}))

	require.Empty(t, invariantCheck{module: "market", check: func(sdk.Context) error { return nil }}.run(sdk.Context{}))

	panicking := invariantCheck{module: "provider", unnamed: "inventory", check: func(sdk.Context) error {
		panic(fmt.Sprintf("index out of range [%d]", 3))
	}}
	require.Equal(t, []BrokenInvariant{{"provider", "inventory", "the check panicked: index out of range [3]"}},
		panicking.run(sdk.Context{}))
}
