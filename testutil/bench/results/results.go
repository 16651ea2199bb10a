// Package results holds the shapes of the JSON files the benchmark suites
// write into $GPUMESH_BENCH_OUT: the in-process suites (testutil/bench),
// the proof-cost suite (testutil/bench/proofcost) and the network suites
// (testutil/e2e) write them, and testutil/bench/report reads them into
// docs/benchmarks.md. Keeping them in one package that imports nothing
// lets the writers and the reader share one definition.
package results

// ---- throughput.json ----

// Throughput is throughput.json: the market workload run twice,
// sequentially and with Block-STM, on fresh chains.
type Throughput struct {
	Sizes Sizes         `json:"sizes"`
	CPUs  int           `json:"cpus"`
	Runs  []ExecutorRun `json:"runs"`
	// Writes is the workload run once more, one round (a block per phase), with the
	// chain's state listeners counting the keys written (listening slows
	// the chain, so this run's timings are not reported).
	Writes []Phase `json:"writes"`
}

// Sizes shape the market workload: TxsPerBlock providers, as many tenants,
// and Blocks rounds of one block per phase (each provider bids on, and
// leases, one GPU per round, so Blocks ≤ 8).
type Sizes struct {
	TxsPerBlock int `json:"txs_per_block"`
	Blocks      int `json:"blocks"`
}

// ExecutorRun is the market workload under one block executor.
type ExecutorRun struct {
	Executor string  `json:"executor"`
	Workers  int     `json:"workers,omitempty"`
	Phases   []Phase `json:"phases"`
}

// Phase is one workload of the throughput suite: blocks of transactions
// of a single message type.
type Phase struct {
	Name    string  `json:"name"`
	Txs     int     `json:"txs"`
	Blocks  int     `json:"blocks"`
	Seconds float64 `json:"seconds"`
	// BlockSeconds is each block's FinalizeBlock + Commit time, in the
	// order run; TPS is a block's transactions over their median.
	BlockSeconds []float64 `json:"block_seconds"`
	TPS          float64   `json:"tps"`
	// GasPerTx is the mean gas used per transaction (ante handler
	// included, as a wallet pays it).
	GasPerTx float64 `json:"gas_per_tx"`
	// Executions is Block-STM's execution count for the phase (0 when
	// sequential); Executions ÷ Txs is the re-execution ratio.
	Executions int64   `json:"executions,omitempty"`
	ExecRatio  float64 `json:"exec_ratio,omitempty"`
	// TypedEventsPerTx is the mean number of gpumesh typed events a
	// transaction emits.
	TypedEventsPerTx float64 `json:"typed_events_per_tx"`
	// WritesPerTx is the number of distinct keys the phase's blocks set
	// or deleted (BeginBlock and EndBlock included) per transaction: the
	// writes IAVL hashes and saves at commit. It is counted in a separate
	// untimed run of the same workload (Throughput.Writes).
	WritesPerTx float64 `json:"writes_per_tx,omitempty"`
}

// ---- endblock.json ----

// Scaling is endblock.json: block costs as the number of active leases
// grows with a fixed set of providers.
type Scaling struct {
	Providers int            `json:"providers"`
	GPUs      int            `json:"gpus"`
	BlockTxs  int            `json:"block_txs"`
	Points    []ScalingPoint `json:"points"`
	// EndBlockRatio and BlockRatio are the largest over the smallest
	// median across the sizes.
	EndBlockRatio float64 `json:"endblock_ratio"`
	BlockRatio    float64 `json:"block_ratio"`
	SetupSeconds  float64 `json:"setup_seconds"`
}

// ScalingPoint is the cost of one block at one market size.
type ScalingPoint struct {
	Leases int `json:"leases"`
	// EndBlockMs is the median time of the app's whole EndBlock (every
	// module) with nothing due.
	EndBlockMs float64 `json:"endblock_ms"`
	// BlockMs is the median time of a whole block (FinalizeBlock and
	// Commit) holding Scaling.BlockTxs bank sends.
	BlockMs float64 `json:"block_ms"`
	// EndBlockModulesMs is each module's share of EndBlockMs (medians).
	EndBlockModulesMs map[string]float64 `json:"endblock_modules_ms"`
	// EndBlockGas is the gas EndBlock's store accesses consume, the
	// measure of its store work; EndBlockModulesGas is each module's.
	EndBlockGas        uint64            `json:"endblock_gas"`
	EndBlockModulesGas map[string]uint64 `json:"endblock_modules_gas"`
	// DBTables is the number of tables at each level of the app's
	// goleveldb database, level 0 first.
	DBTables []int `json:"db_tables"`
}

// ---- storm.json ----

// Storm is storm.json: leases that all run dry at the same second.
type Storm struct {
	Leases int `json:"leases"`
	// Cap is the most run-dry closes one block makes (x/market's
	// max_dry_closes_per_block); the rest wait for the next block.
	Cap          int     `json:"cap"`
	QuietBlockMs float64 `json:"quiet_block_ms"`
	// Blocks are the blocks that closed the storm, in order.
	Blocks     []StormBlock `json:"blocks"`
	PerLeaseUs float64      `json:"per_lease_us"`
}

// StormBlock is one block of a storm.
type StormBlock struct {
	Closed int `json:"closed"`
	// EndBlockMs is the app's EndBlock on a copy of the block's state.
	EndBlockMs float64 `json:"endblock_ms"`
	// BlockMs is the whole block, FinalizeBlock and Commit.
	BlockMs float64 `json:"block_ms"`
}

// ---- proofs.json ----

// Proofs is proofs.json: what proofs of compute cost the chain and the
// prover.
type Proofs struct {
	Verify  []VerifyPoint `json:"verify"`
	LastGPU LastGPU       `json:"last_gpu"`
	Prover  Prover        `json:"prover"`
	CUDA    CUDA          `json:"cuda"`
	Notes   []string      `json:"notes"`
}

// VerifyPoint is the chain's cost of one GPU's MsgRevealProof at n, m, k.
type VerifyPoint struct {
	N int `json:"n"`
	M int `json:"m"`
	K int `json:"k"`
	// Gas is everything the msg server consumed on a fresh gas meter;
	// GasVerification is its "proof-of-compute verification" charge and
	// GasState the rest (KV-store reads and writes).
	Gas             uint64 `json:"gas"`
	GasVerification uint64 `json:"gas_verification"`
	GasState        uint64 `json:"gas_state"`
	// VerifyMs is the median wall time of the msg server's RevealProof;
	// PerOpeningUs is that over k; LibraryVerifyMs is the median of
	// challenge.VerifyReveal alone on the same reveal.
	VerifyMs        float64 `json:"verify_ms"`
	PerOpeningUs    float64 `json:"per_opening_us"`
	LibraryVerifyMs float64 `json:"library_verify_ms"`
	// RevealBytes is the message's proto size; TxBytes the size of a
	// signed transaction carrying only it, and TxBytesGas what the ante
	// handler charges for those bytes (auth's tx_size_cost_per_byte).
	RevealBytes int    `json:"reveal_bytes"`
	TxBytes     int    `json:"tx_bytes"`
	TxBytesGas  uint64 `json:"tx_bytes_gas"`
	Runs        int    `json:"runs"`
}

// LastGPU is the reveal of a challenge's last unrevealed GPU, which also
// resolves the challenge (verified GPUs, reputation, reward weight).
type LastGPU struct {
	N        int    `json:"n"`
	M        int    `json:"m"`
	K        int    `json:"k"`
	Gas      uint64 `json:"gas"`
	ExtraGas uint64 `json:"extra_gas"`
}

// Prover is the CPU prover's speed.
type Prover struct {
	N               int     `json:"n"`
	MACsPerS1Worker float64 `json:"macs_per_s_1_worker"`
	MACsPerSAll     float64 `json:"macs_per_s_all"`
	Workers         int     `json:"workers"`
	PerCore         float64 `json:"per_core"`
	Runs            int     `json:"runs"`
	// TestProfileProofS is the median time of one GPU's whole proof at
	// the test profile: Prove (the m products, their Merkle trees, the
	// commitment) and Open of the k openings, as the sidecar does.
	TestProfileProofS float64           `json:"test_profile_proof_s"`
	TestProfile       Profile           `json:"test_profile"`
	Production        ProductionProfile `json:"production_profile"`
}

// Profile names a challenge size.
type Profile struct {
	Class string `json:"class"`
	N     int    `json:"n"`
	M     int    `json:"m"`
	K     int    `json:"k"`
}

// ProductionProfile is one GPU's whole proof at the smallest production
// class, measured only when it fits the suite's time and memory limits.
type ProductionProfile struct {
	Class      string  `json:"class"`
	N          int     `json:"n"`
	M          int     `json:"m"`
	ProofS     float64 `json:"proof_s"`
	EstimatedS float64 `json:"estimated_s"`
	TreeGiB    float64 `json:"tree_gib"`
	Measured   bool    `json:"measured"`
	Why        string  `json:"why,omitempty"`
}

// CUDA is the CUDA backend's measurement.
type CUDA struct {
	Measured bool   `json:"measured"`
	Reason   string `json:"reason"`
}

// ---- latency.json ----

// Latency is latency.json: the market's steps timed on a local network.
type Latency struct {
	Validators     int          `json:"validators"`
	BlockIntervalS float64      `json:"block_interval_s"`
	Latency        []LatencyRow `json:"latency"`
	Notes          []string     `json:"notes"`
}

// LatencyRow is one step's latency over its samples.
type LatencyRow struct {
	Name          string  `json:"name"`
	BlocksMedian  float64 `json:"blocks_median"`
	SecondsMedian float64 `json:"seconds_median"`
	BlocksMax     int64   `json:"blocks_max"`
	SecondsMax    float64 `json:"seconds_max"`
	Samples       int     `json:"samples"`
	Target        string  `json:"target"`
}

// ---- network.json ----

// Network is network.json: a local network under a load of mixed
// transactions.
type Network struct {
	Validators      int              `json:"validators"`
	Accounts        int              `json:"accounts"`
	DurationS       float64          `json:"duration_s"`
	Submitted       int64            `json:"submitted"`
	AcceptedCheckTx int64            `json:"accepted_checktx"`
	Included        int64            `json:"included"`
	Succeeded       int64            `json:"succeeded"`
	InclusionRate   float64          `json:"inclusion_rate"`
	TPS             float64          `json:"tps"`
	PeakBlockTxs    int              `json:"peak_block_txs"`
	BlockIntervalS  float64          `json:"block_interval_s"`
	ByType          map[string]int64 `json:"by_type"`
	Blocks          []NetworkBlock   `json:"blocks"`
	Notes           []string         `json:"notes"`
}

// NetworkBlock is one block of the load.
type NetworkBlock struct {
	Height int64   `json:"height"`
	TimeS  float64 `json:"time_s"`
	Txs    int     `json:"txs"`
}
