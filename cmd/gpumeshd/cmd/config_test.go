package cmd

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sampleTOML = `# top comment
minimum-gas-prices = "0.0025umesh"
halt-height = 0

[api]
# Enable defines if the API server should be enabled.
enable = false
address = "tcp://localhost:1317"

[grpc]
enable = true
address = "localhost:9090"

[streaming.abci]
keys = []
`

func TestSetTOMLValue(t *testing.T) {
	cases := []struct {
		name, key, value string
		wantLine         string
		wantErr          string
	}{
		{name: "top-level string", key: "minimum-gas-prices", value: "0umesh", wantLine: `minimum-gas-prices = "0umesh"`},
		{name: "top-level number", key: "halt-height", value: "100", wantLine: `halt-height = 100`},
		{name: "bool in table", key: "api.enable", value: "true", wantLine: `enable = true`},
		{name: "same key name, other table", key: "grpc.address", value: "127.0.0.1:9190", wantLine: `address = "127.0.0.1:9190"`},
		{name: "nested table array", key: "streaming.abci.keys", value: `["bank"]`, wantLine: `keys = ["bank"]`},
		{name: "string is quoted safely", key: "api.address", value: `a"b`, wantLine: `address = "a\"b"`},
		{name: "bad bool", key: "api.enable", value: "yes", wantErr: `"yes" is not a boolean`},
		{name: "bad number", key: "halt-height", value: "ten", wantErr: `"ten" is not a number`},
		{name: "bad array", key: "streaming.abci.keys", value: "bank", wantErr: "not a TOML array"},
		{name: "unknown key", key: "api.nope", value: "1", wantErr: `key "api.nope" not found`},
		{name: "key in wrong table", key: "enable", value: "true", wantErr: `key "enable" not found`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := setTOMLValue(sampleTOML, tc.key, tc.value)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Contains(t, out, tc.wantLine+"\n")

			// Exactly one line changed; comments and the rest are intact.
			before, after := strings.Split(sampleTOML, "\n"), strings.Split(out, "\n")
			require.Len(t, after, len(before))
			changed := 0
			for i := range before {
				if before[i] != after[i] {
					changed++
				}
			}
			require.Equal(t, 1, changed)
		})
	}
}

func TestSetTOMLValueOnlyFirstTableMatch(t *testing.T) {
	// grpc.enable must not touch api.enable.
	out, err := setTOMLValue(sampleTOML, "grpc.enable", "false")
	require.NoError(t, err)
	require.Contains(t, out, "[api]\n# Enable defines if the API server should be enabled.\nenable = false\n")
	require.Contains(t, out, "[grpc]\nenable = false\n")
}
