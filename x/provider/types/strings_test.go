package types_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

// providerStringCase is a provider detail a web console will render, and
// the text its rejection must contain (the field, and the reason).
type providerStringCase struct {
	name, field, value, text string
}

// adversarialProviderStrings are moniker, contact and host_uri values
// that inject markup, script URLs, control or bidi characters, or are too
// long.
func adversarialProviderStrings() []providerStringCase {
	long := strings.Repeat("a", 10_000)
	return []providerStringCase{
		{"moniker script tag", "moniker", "<script>alert(1)</script>", `moniker "<script>alert(1)</script>": contains '<'`},
		{"moniker img tag", "moniker", "<img src=x onerror=alert(1)>", `contains '<'`},
		{"moniker closing angle", "moniker", "acme>", `moniker "acme>": contains '>'`},
		{"moniker attribute break", "moniker", `acme" onmouseover="alert(1)`, `contains '"'`},
		{"moniker bidi override", "moniker", "acme\u202egpj.exe", `contains U+202E`},
		{"moniker bidi isolate", "moniker", "acme\u2066x", `contains U+2066`},
		{"moniker zero width space", "moniker", "ac\u200bme", `contains U+200B`},
		{"moniker NUL", "moniker", "acme\x00", `moniker "acme\x00": contains U+0000`},
		{"moniker escape", "moniker", "acme\x1b[31m", `contains U+001B`},
		{"moniker invalid UTF-8", "moniker", "acme\xff", `moniker "acme\xff": is not valid UTF-8`},
		{"moniker leading space", "moniker", " acme", "leading or trailing space"},
		{"moniker leading tab", "moniker", "\tacme", "U+0009"},
		{"moniker 10 kB", "moniker", long, "must be 1-64 bytes"},
		{"contact script tag", "contact", "<script>alert(1)</script>", `contact "<script>alert(1)</script>": contains '<'`},
		{"contact bidi override", "contact", "ops@acme\u202e.example", "contains U+202E"},
		{"contact NUL", "contact", "ops\x00@acme.example", "contains U+0000"},
		{"contact newline", "contact", "ops@acme.example\nBcc: x", "contains U+000A"},
		{"contact invalid UTF-8", "contact", "ops\xc3@acme.example", "is not valid UTF-8"},
		{"contact 10 kB", "contact", long, "at most 128 bytes"},
		{"host javascript", "host_uri", "javascript:alert(1)", `host_uri "javascript:alert(1)": scheme "javascript" is never allowed`},
		{"host javascript mixed case", "host_uri", "JaVaScRiPt:alert(1)", `scheme "javascript" is never allowed`},
		{"host javascript with a host", "host_uri", "javascript://acme.example/%0aalert(1)", `scheme "javascript" is never allowed`},
		{"host data", "host_uri", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", `scheme "data" is never allowed`},
		{"host data markup", "host_uri", "data:text/html,<script>alert(1)</script>", `contains '<'`},
		{"host vbscript", "host_uri", "vbscript:msgbox(1)", `scheme "vbscript" is never allowed`},
		{"host file", "host_uri", "file:///etc/passwd", `scheme "file" is never allowed`},
		{"host leading space", "host_uri", " https://acme.example", `host_uri " https://acme.example": contains ' '`},
		{"host leading control", "host_uri", "\x01https://acme.example", `contains U+0001`},
		{"host attribute break", "host_uri", `https://acme.example/"onmouseover=alert(1)`, `contains '"'`},
		{"host markup", "host_uri", "https://acme.example/<script>", `contains '<'`},
		{"host homograph", "host_uri", "https://\u0430cme.example", "contains U+0430"},
		{"host bidi override", "host_uri", "https://acme.example/\u202e", "contains U+202E"},
		{"host NUL", "host_uri", "https://acme.example\x00", "contains U+0000"},
		{"host invalid UTF-8", "host_uri", "https://acme.example/\xff", "not valid UTF-8"},
		{"host upper-case scheme", "host_uri", "HTTPS://acme.example", `scheme "HTTPS" must be lowercase`},
		{"host relative", "host_uri", "//acme.example/api", "must be absolute"},
		{"host opaque", "host_uri", "https:acme.example", "must name a host"},
		{"host no host", "host_uri", "https:///api", "must name a host"},
		{"host 10 kB", "host_uri", "https://acme.example/" + long, "must be 1-256 bytes"},
	}
}

// Every adversarial value is refused by MsgRegisterProvider and
// MsgUpdateProvider, with the field and the value in the error.
func TestProviderStringsRejected(t *testing.T) {
	for _, tc := range adversarialProviderStrings() {
		t.Run(tc.name, func(t *testing.T) {
			reg := &types.MsgRegisterProvider{Owner: owner, Moniker: "acme", HostUri: "https://gpu.acme.example:8443", Region: "US"}
			upd := &types.MsgUpdateProvider{Owner: owner}
			switch tc.field {
			case "moniker":
				reg.Moniker, upd.Moniker = tc.value, tc.value
			case "contact":
				reg.Contact, upd.Contact = tc.value, tc.value
			case "host_uri":
				reg.HostUri, upd.HostUri = tc.value, tc.value
			}
			for _, err := range []error{reg.ValidateBasic(), upd.ValidateBasic()} {
				require.ErrorIs(t, err, types.ErrInvalidProvider)
				require.ErrorContains(t, err, tc.field+" ")
				require.ErrorContains(t, err, tc.text)
			}
		})
	}
}

// Ordinary names, contacts and URLs stay valid: punctuation people use in
// names, non-Latin scripts, ports, paths, IPv6 literals.
func TestProviderStringsAccepted(t *testing.T) {
	for _, m := range []string{"acme", "Acme GPU Cloud", "O'Brien & Sons", "ÄÖÜ Rechenzentrum", "東京GPU", "gpu-1 (US)", "a"} {
		require.NoError(t, types.ValidateMoniker(m), m)
	}
	for _, c := range []string{"", "ops@acme.example", "+1 555 0100", "https://acme.example/support", "@acme on Matrix"} {
		require.NoError(t, types.ValidateContact(c), c)
	}
	for _, u := range []string{"https://gpu.acme.example:8443", "http://127.0.0.1:9471", "https://[2001:db8::1]:8443/api",
		"https://acme.example/path?q=1&r=%3C#frag", "https://xn--80ak6aa92e.example"} {
		require.NoError(t, types.ValidateHostURI(u), u)
	}
}

// Genesis refuses stored provider details that a message could not set,
// and a scheme list that allows javascript.
func TestGenesisRefusesHostileProviderStrings(t *testing.T) {
	for _, tc := range []struct {
		p    types.Provider
		text string
	}{
		{types.Provider{Moniker: "<b>acme</b>", HostUri: "https://acme.example"}, `providers[0]: moniker "<b>acme</b>": contains '<'`},
		{types.Provider{Moniker: "acme", HostUri: "javascript:alert(1)"}, `providers[0]: host_uri "javascript:alert(1)": scheme "javascript"`},
		{types.Provider{Moniker: "acme", HostUri: "https://acme.example", Contact: "ops\u202e"}, `providers[0]: contact "ops\u202e": contains U+202E`},
	} {
		tc.p.Owner, tc.p.Region, tc.p.Status = owner, "US", types.PROVIDER_STATUS_ACTIVE
		gs := types.DefaultGenesis()
		gs.Providers = []types.Provider{tc.p}
		require.ErrorContains(t, gs.Validate(), tc.text)
	}
	gs := types.DefaultGenesis()
	gs.Params.HostUriSchemes = []string{"javascript"}
	require.ErrorContains(t, gs.Validate(), `host_uri_schemes[0]: scheme "javascript" is never allowed`)
}
