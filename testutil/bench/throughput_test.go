package bench

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/testutil/bench/results"
)

// TestThroughput measures execution throughput per message type against
// bank send, sequentially and under Block-STM.
//
// Smoke run: 8 transactions per block, 2 rounds. Full run
// (GPUMESH_BENCH_OUT set): 400 per block, 8 rounds of one block per phase.
func TestThroughput(t *testing.T) {
	sz := results.Sizes{TxsPerBlock: 8, Blocks: 2}
	if Full() {
		sz = results.Sizes{TxsPerBlock: 400, Blocks: 8}
	}
	res := results.Throughput{Sizes: sz, CPUs: runtime.NumCPU()}
	for _, stm := range []bool{false, true} {
		cfg := Config{BlockSTM: stm}
		run := results.ExecutorRun{Executor: executorName(cfg)}
		if stm {
			run.Workers = runtime.NumCPU()
		}
		run.Phases = marketRun(t, cfg, sz)
		for _, p := range run.Phases {
			require.Equal(t, sz.Blocks, p.Blocks, "%s: %s", run.Executor, p.Name)
			require.Equal(t, sz.TxsPerBlock*p.Blocks, p.Txs, "%s: %s", run.Executor, p.Name)
			require.Len(t, p.BlockSeconds, p.Blocks, "%s: %s", run.Executor, p.Name)
			require.Positive(t, p.GasPerTx, "%s: %s", run.Executor, p.Name)
			if stm {
				// Every transaction ran at least once under Block-STM.
				require.GreaterOrEqual(t, p.Executions, int64(p.Txs), "%s: %s", run.Executor, p.Name)
			}
			t.Logf("%-10s %-13s %5d txs %8.1f tx/s %9.0f gas/tx exec ratio %.2f",
				run.Executor, p.Name, p.Txs, p.TPS, p.GasPerTx, p.ExecRatio)
		}
		res.Runs = append(res.Runs, run)
	}
	// The same transactions cost the same gas under either executor.
	for i, p := range res.Runs[0].Phases {
		require.Equal(t, p.Name, res.Runs[1].Phases[i].Name)
		require.InDelta(t, p.GasPerTx, res.Runs[1].Phases[i].GasPerTx, p.GasPerTx*0.01, p.Name)
	}
	// Keys written per transaction, in an untimed run: one block per phase.
	res.Writes = marketRun(t, Config{CountWrites: true}, results.Sizes{TxsPerBlock: sz.TxsPerBlock, Blocks: 1})
	for _, p := range res.Writes {
		// Every transaction writes at least its signer's account (sequence).
		require.GreaterOrEqual(t, p.WritesPerTx, 1.0, p.Name)
		t.Logf("%-13s %5.1f keys written/tx", p.Name, p.WritesPerTx)
	}
	WriteResult(t, "throughput.json", res)
}
