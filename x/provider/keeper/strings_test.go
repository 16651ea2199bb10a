package keeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/provider/types"
)

// Details a web console renders are refused by the Msg service when they
// carry markup, a script URL, control or bidi characters, or are too long;
// a refused registration or update stores and emits nothing.
func TestMsgServerRefusesHostileProviderStrings(t *testing.T) {
	tests := []struct {
		name string
		mut  func(m *types.MsgRegisterProvider)
		text string
	}{
		{"script in moniker", func(m *types.MsgRegisterProvider) { m.Moniker = "<script>alert(1)</script>" }, `moniker "<script>alert(1)</script>": contains '<'`},
		{"bidi override in moniker", func(m *types.MsgRegisterProvider) { m.Moniker = "acme\u202egpj.exe" }, "contains U+202E"},
		{"NUL in moniker", func(m *types.MsgRegisterProvider) { m.Moniker = "acme\x00" }, "contains U+0000"},
		{"javascript host", func(m *types.MsgRegisterProvider) { m.HostUri = "javascript:alert(1)" }, `scheme "javascript" is never allowed`},
		{"JaVaScRiPt host", func(m *types.MsgRegisterProvider) { m.HostUri = "JaVaScRiPt:alert(1)" }, `scheme "javascript" is never allowed`},
		{"data host", func(m *types.MsgRegisterProvider) { m.HostUri = "data:text/html;base64,PHNjcmlwdD4=" }, `scheme "data" is never allowed`},
		{"leading space host", func(m *types.MsgRegisterProvider) { m.HostUri = " https://acme.example" }, "contains ' '"},
		{"script in contact", func(m *types.MsgRegisterProvider) { m.Contact = "<img src=x onerror=alert(1)>" }, "contains '<'"},
		{"10 kB contact", func(m *types.MsgRegisterProvider) { m.Contact = strings.Repeat("c", 10_000) }, "must be at most 128 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := setup(t)
			owner := s.addr("provider1")
			m := fixtures.Register(owner, "provider1", "US")
			tc.mut(m)
			_, err := s.msg.RegisterProvider(s.ctx, m)
			require.ErrorIs(t, err, types.ErrInvalidProvider)
			require.ErrorContains(t, err, tc.text)
			_, err = s.k.GetProvider(s.ctx, owner)
			require.ErrorIs(t, err, types.ErrProviderNotFound, "a refused registration stores nothing")
			require.Empty(t, typedEvents[types.EventProviderRegistered](t, s.ctx))

			s.register("provider1", "US")
			before := s.provider(owner)
			_, err = s.msg.UpdateProvider(s.ctx, &types.MsgUpdateProvider{Owner: owner.String(), Moniker: m.Moniker, HostUri: m.HostUri,
				Contact: m.Contact})
			require.ErrorIs(t, err, types.ErrInvalidProvider)
			require.ErrorContains(t, err, tc.text)
			require.Equal(t, before, s.provider(owner), "a refused update changes nothing")
		})
	}
}

// host_uri_schemes decides which schemes a registration or update may use;
// governance may narrow it, but not allow javascript, data, file or
// vbscript.
func TestHostURISchemesParam(t *testing.T) {
	s := setup(t)
	authority := s.k.Authority()
	owner := s.addr("provider1")

	// By default http is allowed (the sidecar's API serves plain HTTP) and
	// other schemes are not.
	m := fixtures.Register(owner, "provider1", "US")
	m.HostUri = "ftp://provider1.example.com"
	_, err := s.msg.RegisterProvider(s.ctx, m)
	require.ErrorIs(t, err, types.ErrInvalidProvider)
	require.ErrorContains(t, err, `host_uri "ftp://provider1.example.com": scheme "ftp" is not one of host_uri_schemes [https http]`)
	m.HostUri = "http://127.0.0.1:9471"
	_, err = s.msg.RegisterProvider(s.ctx, m)
	require.NoError(t, err)

	// Governance drops http: new http URIs are refused, the stored one stays.
	params := types.DefaultParams()
	params.HostUriSchemes = []string{"https"}
	_, err = s.msg.UpdateParams(s.ctx, &types.MsgUpdateParams{Authority: authority, Params: params})
	require.NoError(t, err)
	_, err = s.msg.UpdateProvider(s.ctx, &types.MsgUpdateProvider{Owner: owner.String(), HostUri: "http://10.0.0.1:9471"})
	require.ErrorIs(t, err, types.ErrInvalidProvider)
	require.ErrorContains(t, err, `scheme "http" is not one of host_uri_schemes [https]`)
	require.Equal(t, "http://127.0.0.1:9471", s.provider(owner).HostUri)
	_, err = s.msg.UpdateProvider(s.ctx, &types.MsgUpdateProvider{Owner: owner.String(), HostUri: "https://provider1.example.com"})
	require.NoError(t, err)
	require.Equal(t, "https://provider1.example.com", s.provider(owner).HostUri)

	// Governance cannot allow a scheme a browser runs.
	for _, scheme := range []string{"javascript", "vbscript", "data", "file", "JavaScript"} {
		params.HostUriSchemes = []string{"https", scheme}
		_, err = s.msg.UpdateParams(s.ctx, &types.MsgUpdateParams{Authority: authority, Params: params})
		require.ErrorIs(t, err, types.ErrInvalidParams, scheme)
		require.ErrorContains(t, err, "host_uri_schemes[1]", scheme)
	}
	got, err := s.k.GetParams(s.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"https"}, got.HostUriSchemes)
}
