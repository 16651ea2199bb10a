package main

import "github.com/gpumesh/gpumesh/testutil/bench/results"

// Results is everything one `make bench` run produced. The suites' shapes
// are in testutil/bench/results, shared with the suites that write them.
type Results struct {
	Machine    Machine
	Throughput results.Throughput
	Scaling    results.Scaling
	Storm      results.Storm
	Proofs     results.Proofs
	Latency    results.Latency
	Network    results.Network

	HaveMachine, HaveThroughput, HaveScaling, HaveStorm, HaveProofs, HaveLatency, HaveNetwork bool
}
