package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/cosmos/cosmos-sdk/client"
)

// configFiles maps the names accepted by `gpumeshd config` to the files in
// <home>/config.
var configFiles = map[string]string{
	"client": "client.toml",
	"app":    "app.toml",
	"comet":  "config.toml",
}

// ConfigCmd reads and edits the node's configuration files in place, keeping
// their comments: client.toml (CLI defaults), app.toml (the SDK node) and
// config.toml (CometBFT).
func ConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Read and edit client.toml, app.toml and config.toml",
		Long: `Read and edit the configuration files under <home>/config, keeping their comments.

Files: client (client.toml), app (app.toml), comet (config.toml).
Keys inside a TOML table are written with dots: api.enable, rpc.laddr.`,
		RunE: client.ValidateCmd,
	}
	for _, sub := range []*cobra.Command{configViewCmd(), configGetCmd(), configSetCmd(), configHomeCmd()} {
		// Errors here name the file, key and value; the usage text would
		// only bury them.
		sub.SilenceUsage = true
		cmd.AddCommand(sub)
	}
	return cmd
}

func configHomeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "home",
		Short: "Print the configuration directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Println(filepath.Join(client.GetClientContextFromCmd(cmd).HomeDir, "config"))
			return nil
		},
	}
}

func configViewCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "view <client|app|comet>",
		Short:   "Print a configuration file",
		Args:    cobra.ExactArgs(1),
		Example: "gpumeshd config view client",
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := configPath(cmd, args[0])
			if err != nil {
				return err
			}
			bz, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(bz)
			return err
		},
	}
}

func configGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "get <client|app|comet> <key>",
		Short:   "Print one configuration value",
		Args:    cobra.ExactArgs(2),
		Example: "gpumeshd config get client chain-id\ngpumeshd config get app api.address",
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := configPath(cmd, args[0])
			if err != nil {
				return err
			}
			v := viper.New()
			v.SetConfigFile(path)
			v.SetConfigType("toml")
			if err := v.ReadInConfig(); err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			if !v.IsSet(args[1]) {
				return fmt.Errorf("key %q not found in %s", args[1], path)
			}
			cmd.Println(v.Get(args[1]))
			return nil
		},
	}
}

func configSetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "set <client|app|comet> <key> <value> [<key> <value>...]",
		Short: "Change configuration values in place",
		Long: `Change existing keys, keeping the file's comments and layout. Each value keeps
its key's TOML type: strings are quoted for you; booleans, numbers and arrays are
written as given and must be valid TOML of that type. Several key/value pairs
may be given; nothing is written unless all of them apply.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 3 || len(args)%2 != 1 {
				return fmt.Errorf("want a file name and key/value pairs, got %d arguments", len(args))
			}
			return nil
		},
		Example: "gpumeshd config set client chain-id gpumesh-local-1\n" +
			"gpumeshd config set app minimum-gas-prices 0umesh api.enable true",
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := configPath(cmd, args[0])
			if err != nil {
				return err
			}
			bz, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			doc := string(bz)
			for i := 1; i < len(args); i += 2 {
				if doc, err = setTOMLValue(doc, args[i], args[i+1]); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
			}
			return os.WriteFile(path, []byte(doc), 0o600)
		},
	}
}

func configPath(cmd *cobra.Command, name string) (string, error) {
	file, ok := configFiles[name]
	if !ok {
		return "", fmt.Errorf("unknown config file %q: want client, app or comet", name)
	}
	return filepath.Join(client.GetClientContextFromCmd(cmd).HomeDir, "config", file), nil
}

var (
	tomlTableRe = regexp.MustCompile(`^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$`)
	tomlKeyRe   = regexp.MustCompile(`^(\s*)([A-Za-z0-9_\-]+)(\s*=\s*)(.*)$`)
)

// setTOMLValue replaces the value of an existing key (dotted for keys inside
// a table) in a TOML document, line by line, keeping everything else
// byte for byte. The new value keeps the old value's type.
func setTOMLValue(doc, dottedKey, value string) (string, error) {
	table, key := "", dottedKey
	if i := strings.LastIndex(dottedKey, "."); i >= 0 {
		table, key = dottedKey[:i], dottedKey[i+1:]
	}
	if key == "" {
		return "", fmt.Errorf("invalid key %q", dottedKey)
	}

	var (
		out     strings.Builder
		current string
		found   bool
	)
	sc := bufio.NewScanner(strings.NewReader(doc))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := tomlTableRe.FindStringSubmatch(line); m != nil {
			current = m[1]
		} else if m := tomlKeyRe.FindStringSubmatch(line); m != nil && !found && current == table && m[2] == key {
			formatted, err := formatLike(m[4], value)
			if err != nil {
				return "", fmt.Errorf("key %q: %w", dottedKey, err)
			}
			line = m[1] + m[2] + m[3] + formatted
			found = true
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("key %q not found", dottedKey)
	}
	return out.String(), nil
}

// formatLike renders value with the TOML type of the existing raw value.
func formatLike(existing, value string) (string, error) {
	existing = strings.TrimSpace(existing)
	switch {
	case strings.HasPrefix(existing, `"`):
		return strconv.Quote(value), nil
	case strings.HasPrefix(existing, `'`):
		if strings.Contains(value, "'") {
			return "", errors.New("value contains ' and the key is a literal string")
		}
		return "'" + value + "'", nil
	case existing == "true" || existing == "false":
		if _, err := strconv.ParseBool(value); err != nil || (value != "true" && value != "false") {
			return "", fmt.Errorf("value %q is not a boolean (true or false)", value)
		}
		return value, nil
	case strings.HasPrefix(existing, "["):
		if !strings.HasPrefix(value, "[") || !strings.HasSuffix(value, "]") {
			return "", fmt.Errorf("value %q is not a TOML array like [\"a\", \"b\"]", value)
		}
		return value, nil
	default:
		if _, err := strconv.ParseFloat(value, 64); err != nil {
			return "", fmt.Errorf("value %q is not a number", value)
		}
		return value, nil
	}
}
