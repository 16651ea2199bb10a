package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const (
	repoRoot    = "../.."
	openapiFile = repoRoot + "/docs/openapi.yaml"
)

// modules are the chain modules whose Query services docs/openapi.yaml covers.
var modules = []string{"provider", "stakingslash", "market", "escrow", "proofofcompute"}

// getRoute matches `get: "/…"` and `option (google.api.http).get = "/…"`.
var getRoute = regexp.MustCompile(`(?:\bget\s*:|\.get\s*=)\s*"([^"]+)"`)

// queryRoutes returns the GET routes annotated in each module's query.proto.
func queryRoutes(t *testing.T) map[string][]string {
	t.Helper()
	routes := map[string][]string{}
	for _, m := range modules {
		file := filepath.Join(repoRoot, "proto/gpumesh", m, "v1/query.proto")
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, match := range getRoute.FindAllSubmatch(src, -1) {
			routes[m] = append(routes[m], string(match[1]))
		}
		if len(routes[m]) == 0 {
			t.Fatalf("%s: no google.api.http GET routes found", file)
		}
	}
	return routes
}

// TestDocCoversQueryRoutes keeps docs/openapi.yaml in step with the protos:
// every GET route of the modules' Query services is documented, and every
// gpumesh path in the document is such a route. Run `make openapi` to fix.
func TestDocCoversQueryRoutes(t *testing.T) {
	raw, err := os.ReadFile(openapiFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Swagger string                    `json:"swagger"`
		Info    struct{ Title string }    `json:"info"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", openapiFile, err)
	}
	if doc.Swagger != "2.0" || doc.Info.Title != title {
		t.Errorf("%s: swagger %q, title %q", openapiFile, doc.Swagger, doc.Info.Title)
	}

	want := map[string]bool{}
	for m, routes := range queryRoutes(t) {
		for _, r := range routes {
			want[r] = true
			if _, ok := doc.Paths[r]["get"]; !ok {
				t.Errorf("%s: GET %s of %s/v1/query.proto is missing (run make openapi)", openapiFile, r, m)
			}
		}
	}
	for path := range doc.Paths {
		if strings.HasPrefix(path, "/gpumesh/") && !want[path] {
			t.Errorf("%s: %s is not a route of the modules' query.proto (run make openapi)", openapiFile, path)
		}
	}
}

func TestMerge(t *testing.T) {
	status := map[string]any{"type": "object"}
	queryDoc := func(module string) document {
		return document{
			Swagger: "2.0",
			Tags:    []map[string]any{{"name": "gpumesh." + module + ".v1.Query"}},
			Paths: map[string]map[string]map[string]any{
				"/gpumesh/" + module + "/v1/params": {"get": {
					"operationId": "Query_Params",
					"tags":        []any{"gpumesh." + module + ".v1.Query"},
					"responses": map[string]any{
						"200":     map[string]any{"schema": map[string]any{"$ref": "#/definitions/gpumesh." + module + ".v1.Params"}},
						"default": map[string]any{"schema": map[string]any{"$ref": "#/definitions/google.rpc.Status"}},
					},
				}},
			},
			Definitions: map[string]any{"gpumesh." + module + ".v1.Params": map[string]any{"type": "object"}, "google.rpc.Status": status},
		}
	}
	txDoc := document{
		Swagger:     "2.0",
		Tags:        []map[string]any{{"name": "gpumesh.market.v1.Msg"}},
		Paths:       map[string]map[string]map[string]any{},
		Definitions: map[string]any{"google.rpc.Status": status, "gpumesh.market.v1.Unused": map[string]any{"type": "object"}},
	}

	t.Run("ok", func(t *testing.T) {
		got, err := merge([]input{
			{"gpumesh/escrow/v1/query.swagger.json", queryDoc("escrow")},
			{"gpumesh/market/v1/query.swagger.json", queryDoc("market")},
			{"gpumesh/market/v1/tx.swagger.json", txDoc},
		})
		if err != nil {
			t.Fatal(err)
		}
		if id := got.Paths["/gpumesh/market/v1/params"]["get"]["operationId"]; id != "gpumesh_market_v1_Query_Params" {
			t.Errorf("operationId %v", id)
		}
		if defs := sortedKeys(got.Definitions); !slices.Equal(defs, []string{"google.rpc.Status", "gpumesh.escrow.v1.Params", "gpumesh.market.v1.Params"}) {
			t.Errorf("definitions %v", defs)
		}
		if len(got.Tags) != 2 {
			t.Errorf("tags %v, want only the two Query services", got.Tags)
		}
		a, err := render(got)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := render(got)
		if string(a) != string(b) {
			t.Error("render is not deterministic")
		}
	})

	t.Run("conflicting definition", func(t *testing.T) {
		other := queryDoc("market")
		other.Definitions["google.rpc.Status"] = map[string]any{"type": "string"}
		_, err := merge([]input{{"gpumesh/escrow/v1/query.swagger.json", queryDoc("escrow")}, {"gpumesh/market/v1/query.swagger.json", other}})
		if err == nil || !strings.Contains(err.Error(), "google.rpc.Status") {
			t.Errorf("err %v, want a google.rpc.Status conflict", err)
		}
	})

	t.Run("duplicate route", func(t *testing.T) {
		_, err := merge([]input{{"gpumesh/market/v1/a.swagger.json", queryDoc("market")}, {"gpumesh/market/v2/b.swagger.json", queryDoc("market")}})
		if err == nil || !strings.Contains(err.Error(), "defined twice") {
			t.Errorf("err %v, want a duplicate route", err)
		}
	})

	t.Run("undefined reference", func(t *testing.T) {
		d := queryDoc("market")
		delete(d.Definitions, "gpumesh.market.v1.Params")
		_, err := merge([]input{{"gpumesh/market/v1/query.swagger.json", d}})
		if err == nil || !strings.Contains(err.Error(), "undefined definition") {
			t.Errorf("err %v, want an undefined definition", err)
		}
	})
}
