// Command report turns the JSON results of `make bench` into
// docs/benchmarks.md and its plots:
//
//	go run ./testutil/bench/report -in build/bench -out docs/benchmarks.md
//
// Each suite writes one JSON file into the input directory; a missing file
// is reported as "not run" rather than failing, so that one suite can be
// rerun and the page regenerated alone.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

func main() {
	in := flag.String("in", "build/bench", "directory holding the suites' JSON results")
	out := flag.String("out", "docs/benchmarks.md", "markdown file to write; plots go to <dir>/benchmarks/")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// load reads one suite's JSON into v; ok is false when the suite did not
// run.
func load(dir, name string, v any) (bool, error) {
	bz, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(bz, v); err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	return true, nil
}

func run(in, out string) error {
	var r Results
	files := []struct {
		name string
		v    any
		ok   *bool
	}{
		{"throughput.json", &r.Throughput, &r.HaveThroughput},
		{"endblock.json", &r.Scaling, &r.HaveScaling},
		{"storm.json", &r.Storm, &r.HaveStorm},
		{"proofs.json", &r.Proofs, &r.HaveProofs},
		{"latency.json", &r.Latency, &r.HaveLatency},
		{"network.json", &r.Network, &r.HaveNetwork},
		{"machine.json", &r.Machine, &r.HaveMachine},
	}
	for _, f := range files {
		ok, err := load(in, f.name, f.v)
		if err != nil {
			return err
		}
		*f.ok = ok
	}
	if !r.HaveMachine {
		r.Machine = describeMachine()
	}
	plotDir := filepath.Join(filepath.Dir(out), "benchmarks")
	if err := os.MkdirAll(plotDir, 0o755); err != nil {
		return err
	}
	md, err := render(&r, plotDir, filepath.Base(plotDir))
	if err != nil {
		return err
	}
	return os.WriteFile(out, []byte(md), 0o644)
}

// Machine records where and with what the numbers were taken.
type Machine struct {
	Date      string `json:"date"`
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	MemoryGiB int    `json:"memory_gib"`
	OS        string `json:"os"`
	Go        string `json:"go"`
	SDK       string `json:"sdk"`
	CometBFT  string `json:"cometbft"`
	Commit    string `json:"commit"`
}

// describeMachine reads this machine's description (when the suites did
// not record one).
func describeMachine() Machine {
	m := Machine{Date: time.Now().UTC().Format("2006-01-02"), Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if bz, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(bz), "\n") {
			if strings.HasPrefix(l, "model name") {
				m.CPU = strings.TrimSpace(l[strings.Index(l, ":")+1:])
				break
			}
		}
	}
	if bz, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(bz), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryGiB = (kb + 512*1024) / (1024 * 1024)
		}
	}
	if o, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.Go = strings.TrimSpace(string(o))
	}
	if bz, err := os.ReadFile("go.mod"); err == nil {
		for _, l := range strings.Split(string(bz), "\n") {
			f := strings.Fields(l)
			if len(f) >= 2 && f[0] == "github.com/cosmos/cosmos-sdk" {
				m.SDK = f[1]
			}
			if len(f) >= 2 && f[0] == "github.com/cometbft/cometbft" {
				m.CometBFT = f[1]
			}
		}
	}
	if o, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(o))
	}
	return m
}
