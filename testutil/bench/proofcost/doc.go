// Package proofcost measures what proof of compute costs, as a test
// (TestProofCosts) with no library code:
//
//   - on-chain verification of one GPU's MsgRevealProof for n ∈ {4096,
//     16384, 65536} and k ∈ {16, 32} openings: the gas the real msg
//     server charges on a fresh gas meter, its wall time, the time per
//     opening and the message's size;
//   - the CPU prover: multiply-adds per second of the challenge
//     package's CPU multiplier with one worker and with one per CPU, and
//     the time of one GPU's whole proof at the test profile (and at the
//     smallest production profile when that fits in a minute);
//   - the CUDA backend, which needs an NVIDIA GPU and is recorded as not
//     measured on a machine without one.
//
// Like the suites of testutil/bench, by default it runs at tiny sizes as a
// smoke test inside `make test`, asserting only that the harness is sound
// (a valid reveal passes, a corrupted one fails, gas is positive and grows
// with k), never a speed. With GPUMESH_BENCH_OUT naming a directory it
// runs at full size and writes proofs.json there, which `make bench` turns
// into the proof-cost section of docs/benchmarks.md:
//
//	GPUMESH_BENCH_OUT=/tmp/pc go test -count=1 -timeout 10m -v ./testutil/bench/proofcost/
package proofcost
