package text_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/x/internal/text"
)

// What CheckText accepts is valid UTF-8 with no control (Cc) or format
// (Cf) character, no markup character and no surrounding space, whatever
// the input.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"acme", "<script>", "a\u202eb", "a\x00", "\xff", " a", "O'Brien & Sons", "東京", "a\u200bb", "a\u2028b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if text.CheckText(s) != nil {
			return
		}
		require.True(t, utf8.ValidString(s))
		require.Equal(t, strings.TrimSpace(s), s)
		for _, r := range s {
			require.False(t, unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Zl, unicode.Zp), "%U", r)
			require.NotContains(t, text.MarkupChars, string(r))
		}
	})
}

// What CheckURI accepts is printable ASCII without space, quote or angle
// bracket, parses as an absolute URI with a host, and has a lowercase
// scheme that is not denied, whatever the input.
func FuzzCheckURI(f *testing.F) {
	for _, s := range []string{"https://a.example", "javascript:alert(1)", "JaVaScRiPt://x/%0a", "ssh://u@h:22", "ssh://u:p@h",
		"data:text/html,x", "https:x", "//h", "https://h/\"", "https://\u0430.example", "file:///etc/passwd", "vbscript:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := text.CheckURI(s)
		if err != nil {
			return
		}
		for i := 0; i < len(s); i++ {
			require.True(t, s[i] > ' ' && s[i] < 0x7f && !strings.ContainsRune(`<>"\^{|}`+"`", rune(s[i])), "byte %d of %q", i, s)
		}
		require.False(t, slices.Contains(text.DeniedSchemes, u.Scheme), s)
		require.True(t, strings.HasPrefix(s, u.Scheme+"://"), s)
		require.NotEmpty(t, u.Hostname(), s)
		_, hasPassword := u.User.Password()
		require.False(t, hasPassword, s)
		again, err := url.Parse(s)
		require.NoError(t, err)
		require.Equal(t, u, again)
	})
}

func TestCheckSchemes(t *testing.T) {
	require.NoError(t, text.CheckSchemes("f", []string{"https", "ssh", "git+ssh", "web+gpu"}))
	for _, tc := range []struct {
		schemes []string
		text    string
	}{
		{nil, "f: want 1-16 schemes, got 0"},
		{[]string{"javascript"}, `f[0]: scheme "javascript" is never allowed`},
		{[]string{"ssh", "Data"}, `f[1] "Data" must be a lowercase URI scheme`},
		{[]string{"1http"}, `f[0] "1http" must be a lowercase URI scheme`},
		{[]string{strings.Repeat("a", 33)}, "must be a lowercase URI scheme: 1-32"},
		{[]string{"ssh", "ssh"}, `f[1] "ssh" is listed twice`},
	} {
		require.ErrorContains(t, text.CheckSchemes("f", tc.schemes), tc.text, tc.schemes)
	}
}

func TestQuoteShortensLongValues(t *testing.T) {
	require.Equal(t, `"a\x00"`, text.Quote("a\x00"))
	long := text.Quote(strings.Repeat("x", 10_000))
	require.Equal(t, `"`+strings.Repeat("x", 64)+`"…`, long)
}
