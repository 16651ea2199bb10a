package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/spf13/cast"

	errorsmod "cosmossdk.io/errors"

	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	proofofcomputetypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Invariants on a live chain. Every gpumesh module's invariants run in
// three places: App.CheckInvariants in tests; at the end of every N-th
// block when app.toml sets [gpumesh] invariants-every = N (a broken
// invariant then stops the node at that block); and on demand through the
// ABCI query InvariantsQueryPath (`gpumeshd query invariants`), when
// app.toml sets [gpumesh] invariants-query = true. Each check walks whole
// stores.
const (
	// FlagInvariantsEvery is app.toml's [gpumesh] invariants-every, also
	// the start flag --gpumesh.invariants-every: check the invariants at
	// the end of every N-th block (heights divisible by N), 0 = never.
	FlagInvariantsEvery = "gpumesh.invariants-every"
	// FlagInvariantsQuery is app.toml's [gpumesh] invariants-query, also
	// the start flag --gpumesh.invariants-query: answer InvariantsQueryPath.
	FlagInvariantsQuery = "gpumesh.invariants-query"

	// InvariantsQueryPath is the ABCI query path of the invariants report
	// (CometBFT RPC abci_query only: the SDK's gRPC and REST ABCIQuery
	// accept only /app, /store, /p2p and /custom paths).
	InvariantsQueryPath = "/gpumesh/invariants"
)

// InvariantsReport is the result of checking every gpumesh module's
// invariants over the state at Height: the answer to InvariantsQueryPath,
// in JSON.
type InvariantsReport struct {
	Height int64 `json:"height"`
	// OK is true when no invariant is broken.
	OK bool `json:"ok"`
	// Modules are the modules checked, in order.
	Modules []string `json:"modules"`
	// Broken has one entry per broken invariant (for modules that list
	// several problems of one invariant, one per problem).
	Broken []BrokenInvariant `json:"broken"`
}

// BrokenInvariant is one violation: the module, the invariant's name (as
// in the module README's Invariants section) and what is wrong.
type BrokenInvariant struct {
	Module    string `json:"module"`
	Invariant string `json:"invariant"`
	Message   string `json:"message"`
}

func (b BrokenInvariant) String() string {
	return fmt.Sprintf("x/%s %s invariant: %s", b.Module, b.Invariant, b.Message)
}

// invariantsConfig is the [gpumesh] invariant options of app.toml.
type invariantsConfig struct {
	every uint64
	query bool
}

// readInvariantsConfig reads the invariant options; a value of the wrong
// type stops the node at start, naming the option.
func readInvariantsConfig(appOpts servertypes.AppOptions) invariantsConfig {
	var cfg invariantsConfig
	if v := appOpts.Get(FlagInvariantsEvery); v != nil {
		every, err := cast.ToUint64E(v)
		if err != nil {
			panic(fmt.Errorf("%s = %v: want a block count >= 0 (0: never): %w", FlagInvariantsEvery, v, err))
		}
		cfg.every = every
	}
	if v := appOpts.Get(FlagInvariantsQuery); v != nil {
		query, err := cast.ToBoolE(v)
		if err != nil {
			panic(fmt.Errorf("%s = %v: want true or false: %w", FlagInvariantsQuery, v, err))
		}
		cfg.query = query
	}
	return cfg
}

// invariantCheck is one module's invariant check. unnamed names the
// module's invariant in a violation that does not name one itself (the
// modules built on sdk.Invariant name theirs, "<module>: <name>
// invariant\n<message>"; x/provider and x/market have one combined check).
type invariantCheck struct {
	module  string
	unnamed string
	check   func(sdk.Context) error
}

// invariantChecks lists every gpumesh module's check, in dependency order.
func (app *App) invariantChecks() []invariantCheck {
	return []invariantCheck{
		{providertypes.ModuleName, "inventory", func(ctx sdk.Context) error { return app.ProviderKeeper.CheckInvariants(ctx) }},
		{stakingslashtypes.ModuleName, "unnamed", app.StakingSlashKeeper.CheckInvariants},
		{escrowtypes.ModuleName, "unnamed", func(ctx sdk.Context) error { return app.EscrowKeeper.CheckInvariants(ctx) }},
		{markettypes.ModuleName, "state", func(ctx sdk.Context) error { return app.MarketKeeper.CheckInvariants(ctx) }},
		{proofofcomputetypes.ModuleName, "unnamed", func(ctx sdk.Context) error { return app.ProofOfComputeKeeper.CheckInvariants(ctx) }},
	}
}

// InvariantsReport checks every gpumesh module's invariants over the state
// in ctx and reports each violation. Every module is checked, also after
// one fails. The checks run on a branch of ctx with their own event
// manager and an infinite gas meter, which is discarded: they never change
// ctx's state, events or gas. It walks whole stores.
func (app *App) InvariantsReport(ctx sdk.Context) InvariantsReport {
	report := InvariantsReport{Height: ctx.BlockHeight(), Broken: []BrokenInvariant{}}
	for _, c := range app.invariantChecks() {
		report.Modules = append(report.Modules, c.module)
		branch, _ := ctx.CacheContext()
		branch = branch.WithEventManager(sdk.NewEventManager()).WithGasMeter(storetypes.NewInfiniteGasMeter())
		report.Broken = append(report.Broken, c.run(branch)...)
	}
	report.OK = len(report.Broken) == 0
	return report
}

// CheckInvariants checks the invariants of every gpumesh module over the
// state in ctx and returns every violation, joined, or nil.
func (app *App) CheckInvariants(ctx sdk.Context) error {
	report := app.InvariantsReport(ctx)
	errs := make([]error, len(report.Broken))
	for i, b := range report.Broken {
		errs[i] = errors.New(b.String())
	}
	return errors.Join(errs...)
}

// run runs the check and splits its error into one entry per violation. A
// panicking check (corrupt state can make one) is a violation too.
func (c invariantCheck) run(ctx sdk.Context) (broken []BrokenInvariant) {
	defer func() {
		if r := recover(); r != nil {
			broken = append(broken, BrokenInvariant{Module: c.module, Invariant: c.unnamed, Message: fmt.Sprintf("the check panicked: %v", r)})
		}
	}()
	for _, err := range leafErrors(c.check(ctx)) {
		broken = append(broken, c.parse(err.Error()))
	}
	return broken
}

// parse reads sdk.FormatInvariant's "<module>: <name> invariant\n<message>\n"
// into its parts; any other text is a violation of c.unnamed.
func (c invariantCheck) parse(text string) BrokenInvariant {
	text = strings.TrimSpace(text)
	head, message, _ := strings.Cut(text, "\n")
	if name, ok := strings.CutPrefix(head, c.module+": "); ok {
		if name, ok = strings.CutSuffix(name, " invariant"); ok && name != "" && !strings.Contains(name, " ") {
			return BrokenInvariant{Module: c.module, Invariant: name, Message: strings.TrimSpace(message)}
		}
	}
	return BrokenInvariant{Module: c.module, Invariant: c.unnamed, Message: text}
}

// leafErrors flattens errors.Join trees into their leaves, in order.
func leafErrors(err error) []error {
	if err == nil {
		return nil
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, leafErrors(e)...)
	}
	return out
}

// checkInvariantsAtEndBlock checks the invariants at heights divisible by
// app.toml's invariants-every, after the modules' end blockers, and turns a
// violation into an error: FinalizeBlock fails and the node stops at this
// block (as x/crisis's inv-check-period did). It changes no state, so
// nodes with different settings agree on every block that passes.
func (app *App) checkInvariantsAtEndBlock(ctx sdk.Context) error {
	every := app.invariants.every
	if every == 0 || ctx.BlockHeight() <= 0 || uint64(ctx.BlockHeight())%every != 0 {
		return nil
	}
	if err := app.CheckInvariants(ctx); err != nil {
		return fmt.Errorf("invariant broken at height %d (checked every %d blocks, app.toml %s): %w",
			ctx.BlockHeight(), every, FlagInvariantsEvery, err)
	}
	return nil
}

// Query answers InvariantsQueryPath and passes every other ABCI query to
// BaseApp. CometBFT calls it through server.NewCometABCIWrapper(app), which
// holds the App (so this method, not BaseApp's).
func (app *App) Query(ctx context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	if req.Path != InvariantsQueryPath {
		return app.BaseApp.Query(ctx, req)
	}
	return app.queryInvariants(req), nil
}

// queryInvariants answers InvariantsQueryPath with the InvariantsReport, in
// JSON, of the state at req.Height (0: the latest committed). The node's
// ABCI connections share one lock, so the node processes no block while it
// runs: it answers only when app.toml enables it.
func (app *App) queryInvariants(req *abci.RequestQuery) (resp *abci.ResponseQuery) {
	defer func() {
		if r := recover(); r != nil {
			resp = sdkerrors.QueryResult(errorsmod.Wrapf(sdkerrors.ErrPanic, "%s: %v", InvariantsQueryPath, r), false)
		}
	}()
	if !app.invariants.query {
		return sdkerrors.QueryResult(errorsmod.Wrapf(sdkerrors.ErrUnauthorized,
			"%s is disabled on this node: it walks whole stores; set [gpumesh] invariants-query = true in app.toml "+
				"(or start with --%s) on a node you run", InvariantsQueryPath, FlagInvariantsQuery), false)
	}
	height := req.Height
	if height == 0 {
		height = app.LastBlockHeight()
	}
	ctx, err := app.CreateQueryContext(height, false)
	if err != nil {
		return sdkerrors.QueryResult(errorsmod.Wrapf(err, "%s at height %d", InvariantsQueryPath, height), false)
	}
	bz, err := json.Marshal(app.InvariantsReport(ctx))
	if err != nil {
		return sdkerrors.QueryResult(errorsmod.Wrapf(sdkerrors.ErrJSONMarshal, "invariants report: %s", err), false)
	}
	return &abci.ResponseQuery{Height: height, Value: bz}
}
