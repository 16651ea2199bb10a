package api

import (
	"net/http"
	"slices"
)

// cors lets the browser origins listed in api.cors_origins ("*" = any)
// read the REST API. A preflight from a listed origin is answered here
// (204); one from any other origin is refused (403). Requests without an
// Origin, or from an unlisted origin, get no CORS headers, so browsers
// keep the response from the page.
func cors(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	anyOrigin := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		w.Header().Add("Vary", "Origin")
		allowed := origin != "" && (anyOrigin || slices.Contains(origins, origin))
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
		}
		if !preflight {
			next.ServeHTTP(w, r)
			return
		}
		if !allowed {
			http.Error(w, "origin not allowed (api.cors_origins)", http.StatusForbidden)
			return
		}
		w.Header().Add("Vary", "Access-Control-Request-Method")
		w.Header().Add("Vary", "Access-Control-Request-Headers")
		w.Header().Set("Access-Control-Allow-Methods", "GET, OPTIONS")
		if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
			w.Header().Set("Access-Control-Allow-Headers", h)
		}
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
}
