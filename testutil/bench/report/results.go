package main

// The shapes of the suites' JSON files. The in-process suites'
// (throughput, endblock, storm) mirror the structs in testutil/bench; the
// proof-cost suite's mirror testutil/bench/proofcost; the network suites'
// mirror testutil/e2e/bench_test.go.

// Results is everything one `make bench` run produced.
type Results struct {
	Machine    Machine
	Throughput Throughput
	Scaling    Scaling
	Storm      Storm
	Proofs     Proofs
	Latency    Latency
	Network    Network

	HaveMachine, HaveThroughput, HaveScaling, HaveStorm, HaveProofs, HaveLatency, HaveNetwork bool
}

// Throughput is throughput.json.
type Throughput struct {
	Sizes struct {
		TxsPerBlock int `json:"txs_per_block"`
		Blocks      int `json:"blocks"`
	} `json:"sizes"`
	CPUs int `json:"cpus"`
	Runs []struct {
		Executor string  `json:"executor"`
		Workers  int     `json:"workers"`
		Phases   []Phase `json:"phases"`
	} `json:"runs"`
}

// Phase is one message type's throughput.
type Phase struct {
	Name             string  `json:"name"`
	Txs              int     `json:"txs"`
	Blocks           int     `json:"blocks"`
	Seconds          float64 `json:"seconds"`
	TPS              float64 `json:"tps"`
	GasPerTx         float64 `json:"gas_per_tx"`
	Executions       int64   `json:"executions"`
	ExecRatio        float64 `json:"exec_ratio"`
	TypedEventsPerTx float64 `json:"typed_events_per_tx"`
}

// Scaling is endblock.json.
type Scaling struct {
	Providers int `json:"providers"`
	GPUs      int `json:"gpus"`
	BlockTxs  int `json:"block_txs"`
	Points    []struct {
		Leases            int                `json:"leases"`
		EndBlockMs        float64            `json:"endblock_ms"`
		BlockMs           float64            `json:"block_ms"`
		EndBlockModulesMs map[string]float64 `json:"endblock_modules_ms"`
	} `json:"points"`
	EndBlockRatio float64 `json:"endblock_ratio"`
	BlockRatio    float64 `json:"block_ratio"`
	SetupSeconds  float64 `json:"setup_seconds"`
}

// Storm is storm.json.
type Storm struct {
	Leases       int     `json:"leases"`
	Cap          int     `json:"cap"`
	QuietBlockMs float64 `json:"quiet_block_ms"`
	Blocks       []struct {
		Closed     int     `json:"closed"`
		EndBlockMs float64 `json:"endblock_ms"`
		BlockMs    float64 `json:"block_ms"`
	} `json:"blocks"`
	PerLeaseUs float64 `json:"per_lease_us"`
}

// Proofs is proofs.json.
type Proofs struct {
	Verify []struct {
		N               int     `json:"n"`
		K               int     `json:"k"`
		M               int     `json:"m"`
		Gas             int64   `json:"gas"`
		GasVerification int64   `json:"gas_verification"`
		GasState        int64   `json:"gas_state"`
		TxBytesGas      int64   `json:"tx_bytes_gas"`
		VerifyMs        float64 `json:"verify_ms"`
		PerOpeningUs    float64 `json:"per_opening_us"`
		RevealBytes     int     `json:"reveal_bytes"`
		Runs            int     `json:"runs"`
	} `json:"verify"`
	LastGPU struct {
		N        int   `json:"n"`
		K        int   `json:"k"`
		Gas      int64 `json:"gas"`
		ExtraGas int64 `json:"extra_gas"`
	} `json:"last_gpu"`
	Prover struct {
		N                 int     `json:"n"`
		MACsPerS1Worker   float64 `json:"macs_per_s_1_worker"`
		MACsPerSAll       float64 `json:"macs_per_s_all"`
		Workers           int     `json:"workers"`
		PerCore           float64 `json:"per_core"`
		TestProfileProofS float64 `json:"test_profile_proof_s"`
		Production        struct {
			N        int     `json:"n"`
			M        int     `json:"m"`
			ProofS   float64 `json:"proof_s"`
			Measured bool    `json:"measured"`
			Why      string  `json:"why"`
		} `json:"production_profile"`
	} `json:"prover"`
	CUDA struct {
		Measured bool   `json:"measured"`
		Reason   string `json:"reason"`
	} `json:"cuda"`
	Notes []string `json:"notes"`
}

// Latency is latency.json.
type Latency struct {
	Validators     int     `json:"validators"`
	BlockIntervalS float64 `json:"block_interval_s"`
	Latency        []struct {
		Name          string  `json:"name"`
		BlocksMedian  float64 `json:"blocks_median"`
		SecondsMedian float64 `json:"seconds_median"`
		BlocksMax     float64 `json:"blocks_max"`
		SecondsMax    float64 `json:"seconds_max"`
		Samples       int     `json:"samples"`
		Target        string  `json:"target"`
	} `json:"latency"`
	Notes []string `json:"notes"`
}

// Network is network.json.
type Network struct {
	Validators      int            `json:"validators"`
	Accounts        int            `json:"accounts"`
	DurationS       float64        `json:"duration_s"`
	Submitted       int            `json:"submitted"`
	AcceptedCheckTx int            `json:"accepted_checktx"`
	Included        int            `json:"included"`
	Succeeded       int            `json:"succeeded"`
	InclusionRate   float64        `json:"inclusion_rate"`
	TPS             float64        `json:"tps"`
	PeakBlockTxs    int            `json:"peak_block_txs"`
	BlockIntervalS  float64        `json:"block_interval_s"`
	ByType          map[string]int `json:"by_type"`
	Blocks          []struct {
		Height int64   `json:"height"`
		TimeS  float64 `json:"time_s"`
		Txs    int     `json:"txs"`
	} `json:"blocks"`
	Notes []string `json:"notes"`
}
