package cmd

import (
	"bytes"
	"fmt"
	"os"
	"text/template"

	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
)

// AppConfig is app.toml: the SDK's node options and gpumesh's own
// [gpumesh] section.
type AppConfig struct {
	serverconfig.Config `mapstructure:",squash"`

	Gpumesh GpumeshConfig `mapstructure:"gpumesh"`
}

// GpumeshConfig is app.toml's [gpumesh] section (read by app.New through
// app.FlagInvariantsEvery and app.FlagInvariantsQuery).
type GpumeshConfig struct {
	// InvariantsEvery checks every gpumesh invariant at the end of every
	// N-th block and stops the node at a broken one; 0 = never.
	InvariantsEvery uint64 `mapstructure:"invariants-every"`
	// InvariantsQuery lets `gpumeshd query invariants` ask this node.
	InvariantsQuery bool `mapstructure:"invariants-query"`
}

// appConfigTemplate is the SDK's app.toml template plus [gpumesh].
const appConfigTemplate = serverconfig.DefaultConfigTemplate + `
###############################################################################
###                                gpumesh                                  ###
###############################################################################

[gpumesh]

# Check every gpumesh module's invariants (docs/validator.md, "Checking
# invariants") at the end of every N-th block, after the modules' end
# blockers. A broken invariant stops the node at that block with an error
# naming it. Each check walks the gpumesh modules' whole stores, so it adds
# to every checked block's time. 0 = never. Local networks use 1.
invariants-every = {{ .Gpumesh.InvariantsEvery }}

# Answer ` + "`gpumeshd query invariants`" + ` (the ABCI query /gpumesh/invariants). The
# check walks whole stores and holds the node's ABCI lock while it runs (no
# block is processed meanwhile), so enable it only on a node whose RPC is
# yours, not on a public RPC node.
invariants-query = {{ .Gpumesh.InvariantsQuery }}
`

// renderAppConfig renders app.toml from cfg with appConfigTemplate.
func renderAppConfig(cfg AppConfig) ([]byte, error) {
	tmpl, err := template.New("app.toml").Parse(appConfigTemplate)
	if err != nil {
		return nil, fmt.Errorf("app.toml template: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, cfg); err != nil {
		return nil, fmt.Errorf("render app.toml: %w", err)
	}
	return buf.Bytes(), nil
}

// writeAppConfig writes cfg to path as app.toml.
func writeAppConfig(path string, cfg AppConfig) error {
	bz, err := renderAppConfig(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, bz, 0o644)
}
