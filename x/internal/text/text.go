// Package text checks the strings that accounts put on chain and that other
// people's software displays: provider monikers and contacts, host URIs,
// lease access endpoints, the comment of an SSH key. The modules wrap its
// errors with the field and the value; the checks are pure functions of
// the string (and, for schemes, of a parameter list), so they are
// deterministic.
//
// Free text is refused when it could change what a reader sees beyond its
// own characters: control and format characters (bidi overrides that
// reverse the text after them, zero-width characters), invalid UTF-8, and
// the characters that open an HTML tag or close a quoted attribute. URIs are
// refused unless they are plain RFC 3986 ASCII with a scheme and a host, and
// the schemes a browser runs or reads locally are refused whatever the
// parameters say.
package text

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MarkupChars are refused in free text: '<' and '>' open and close an HTML
// tag, '"' ends a double-quoted attribute. A console must escape what it
// shows anyway; without these, one that forgets cannot be made to render
// markup from a text node or to leave a double-quoted attribute.
const MarkupChars = `<>"`

// DeniedSchemes are URI schemes that no parameter may allow and no URI may
// use: a browser runs javascript: and vbscript: URLs as code, renders
// data: and blob: URLs as documents of the attacker's choosing, and reads
// file: URLs from the viewer's own disk.
var DeniedSchemes = []string{"javascript", "vbscript", "data", "blob", "file"}

// Limits of a scheme list parameter.
const (
	MaxSchemes   = 16
	MaxSchemeLen = 32
)

var (
	// schemeRe is a scheme as a parameter lists it: RFC 3986 syntax, in
	// lower case.
	schemeRe = regexp.MustCompile(`^[a-z][a-z0-9+.-]{0,31}$`)
	// uriSchemeRe is the scheme at the start of an absolute URI, in any case.
	uriSchemeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
)

// CheckText checks free text: valid UTF-8; only printable characters
// (unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the
// ASCII space — no Cc control characters, no Cf format characters such as
// the bidi overrides U+202A–U+202E and isolates U+2066–U+2069 or the
// zero-width space, no other spaces or line separators); none of
// MarkupChars; no leading or trailing space. The length is the caller's.
func CheckText(s string) error {
	if err := CheckPrintable(s); err != nil {
		return err
	}
	for _, r := range s {
		if strings.ContainsRune(MarkupChars, r) {
			return fmt.Errorf(`contains %q: the markup characters <, > and " are not allowed`, r)
		}
	}
	if strings.TrimSpace(s) != s {
		return errors.New("has a leading or trailing space")
	}
	return nil
}

// CheckPrintable checks that s is valid UTF-8 of printable characters
// only (unicode.IsPrint), naming the first other one.
func CheckPrintable(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("contains %U, a control, format or invisible character", r)
		}
	}
	return nil
}

// CheckURI checks a URI that a console may render as a link and returns it
// parsed: printable ASCII in the RFC 3986 character set (letters, digits,
// -._~:/?#[]@!$&'()*+,;= and % escapes: no spaces, quotes, angle brackets,
// controls or non-ASCII characters — an international host name is written
// in punycode); absolute, with a lowercase scheme that is not denied; with
// a host (scheme://host…, not scheme:opaque); with no password. Whether
// the scheme is allowed, and whether a user name may appear, is the
// caller's.
func CheckURI(s string) (*url.URL, error) {
	if err := checkURIChars(s); err != nil {
		return nil, err
	}
	if !uriSchemeRe.MatchString(s) {
		return nil, errors.New("must be absolute: scheme://host…")
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	if err := checkNotDenied(u.Scheme); err != nil { // url.Parse lowercases the scheme
		return nil, err
	}
	if raw := s[:len(u.Scheme)]; raw != u.Scheme {
		return nil, fmt.Errorf("scheme %q must be lowercase", raw)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, errors.New("must name a host: scheme://host…")
	}
	if _, set := u.User.Password(); set {
		return nil, errors.New("must not carry a password: it would be public")
	}
	return u, nil
}

// checkURIChars refuses every byte outside the RFC 3986 character set,
// naming the first one.
func checkURIChars(s string) error {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if uriChar(b) {
			continue
		}
		if b >= utf8.RuneSelf {
			r, _ := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError {
				return errors.New("is not valid UTF-8")
			}
			return fmt.Errorf("contains %U: a URI is ASCII (write an international host name in punycode)", r)
		}
		if b < 0x20 || b == 0x7f {
			return fmt.Errorf("contains %U, a control character", rune(b))
		}
		return fmt.Errorf("contains %q: a URI is letters, digits and -._~:/?#[]@!$&'()*+,;=%%", rune(b))
	}
	return nil
}

// uriChar reports whether b may appear in a URI: RFC 3986 unreserved,
// reserved, or '%' of an escape.
func uriChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", b) >= 0
}

func checkNotDenied(scheme string) error {
	if slices.Contains(DeniedSchemes, scheme) {
		return fmt.Errorf("scheme %q is never allowed: a browser runs it or reads local content", scheme)
	}
	return nil
}

// CheckSchemes checks the scheme list parameter named field: 1 to
// MaxSchemes distinct lowercase RFC 3986 schemes of at most MaxSchemeLen
// bytes, none of them denied. It names the first bad entry by index.
func CheckSchemes(field string, schemes []string) error {
	if len(schemes) == 0 || len(schemes) > MaxSchemes {
		return fmt.Errorf("%s: want 1-%d schemes, got %d", field, MaxSchemes, len(schemes))
	}
	for i, s := range schemes {
		if !schemeRe.MatchString(s) {
			return fmt.Errorf("%s[%d] %s must be a lowercase URI scheme: 1-%d letters, digits, '+', '-' or '.', starting with a letter",
				field, i, Quote(s), MaxSchemeLen)
		}
		if err := checkNotDenied(s); err != nil {
			return fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		if slices.Contains(schemes[:i], s) {
			return fmt.Errorf("%s[%d] %q is listed twice", field, i, s)
		}
	}
	return nil
}

// Quote returns the value quoted for an error message (%q), shortened to
// its first 64 bytes when longer, so that a 10 kB value does not fill a
// log line.
func Quote(s string) string {
	const limit = 64
	if len(s) <= limit {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q…", s[:limit])
}
