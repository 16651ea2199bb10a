// Package state is the sidecar's shared, read-only view: each subsystem
// owns its state in its own goroutine and publishes immutable snapshots
// here; the API and metrics read them.
package state

import (
	"sync"
	"time"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
)

// Chain is what the block follower knows.
type Chain struct {
	ChainID   string
	Connected bool
	Height    int64
	BlockTime time.Time
	LastError string
}

// GPU is a GPU with its latest telemetry and on-chain status.
type GPU struct {
	gpus.GPU
	Telemetry   gpus.Telemetry
	Listed      bool
	AllocatedTo string
	Verified    bool
}

// Bid is one of the provider's live bids.
type Bid struct {
	OrderID   string
	Price     string
	GPUs      []string
	State     string
	CreatedAt time.Time
}

// Lease is an active lease as the sidecar sees it.
type Lease struct {
	ID             string
	Tenant         string
	Seq            uint64
	GPUs           []string
	Price          string
	StartedAt      time.Time
	State          string
	AccessEndpoint string
	Provisioned    bool
	GPUSeconds     uint64
	MeanUtilPct    uint32
	EnergyMJ       uint64
	LastReport     time.Time
	Earned         string
	LastWithdrawal time.Time
}

// Challenge is a challenge the prover has seen.
type Challenge struct {
	ID             uint64
	State          string
	GPUs           []string
	IssuedHeight   int64
	CommitDeadline int64
	OpenHeight     int64 // the height whose block completes the openings
	Outcome        string
	Dispute        bool
	ProveTime      time.Duration
	CommittedAt    int64
	RevealedAt     int64
}

// Board holds the latest snapshots. Each setter replaces a whole slice, so
// readers never see a half-updated list.
type Board struct {
	mu         sync.RWMutex
	chain      Chain
	gpuList    []GPU
	nvmlOK     bool
	nvmlDesc   string
	bids       []Bid
	leases     []Lease
	challenges []Challenge
	provider   Provider
	unbiddable []UnbiddableGPU
	autoBond   AutoBond
	// provisioning is why leases cannot be provisioned ("" = they can).
	provisioning string
}

// NewBoard returns an empty board.
func NewBoard() *Board { return &Board{} }

// SetChain records the follower's view.
func (b *Board) SetChain(c Chain) { b.mu.Lock(); b.chain = c; b.mu.Unlock() }

// Chain returns the follower's view.
func (b *Board) Chain() Chain { b.mu.RLock(); defer b.mu.RUnlock(); return b.chain }

// SetGPUs records the GPUs and NVML's health.
func (b *Board) SetGPUs(list []GPU, nvmlOK bool, desc string) {
	b.mu.Lock()
	b.gpuList, b.nvmlOK, b.nvmlDesc = list, nvmlOK, desc
	b.mu.Unlock()
}

// GPUs returns the GPUs, whether NVML answers, and its description.
func (b *Board) GPUs() ([]GPU, bool, string) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.gpuList, b.nvmlOK, b.nvmlDesc
}

// SetBids records the live bids.
func (b *Board) SetBids(list []Bid) { b.mu.Lock(); b.bids = list; b.mu.Unlock() }

// Bids returns the live bids.
func (b *Board) Bids() []Bid { b.mu.RLock(); defer b.mu.RUnlock(); return b.bids }

// SetLeases records the active leases.
func (b *Board) SetLeases(list []Lease) { b.mu.Lock(); b.leases = list; b.mu.Unlock() }

// Leases returns the active leases.
func (b *Board) Leases() []Lease { b.mu.RLock(); defer b.mu.RUnlock(); return b.leases }

// SetChallenges records recent challenges, newest first.
func (b *Board) SetChallenges(list []Challenge) { b.mu.Lock(); b.challenges = list; b.mu.Unlock() }

// Challenges returns recent challenges, newest first.
func (b *Board) Challenges() []Challenge { b.mu.RLock(); defer b.mu.RUnlock(); return b.challenges }

// Provider is the provider's on-chain standing, as the last sync read it.
type Provider struct {
	Address    string
	Registered bool
	Active     bool
	Jailed     bool
	Eligible   bool
	Reputation uint32
	// Listed are the provider's GPUs on chain, by UUID.
	Listed map[string]ListedGPU
}

// ListedGPU is a GPU's on-chain status.
type ListedGPU struct {
	NodeID      string
	AllocatedTo string
	Verified    bool
}

// SetProvider records the provider's standing.
func (b *Board) SetProvider(p Provider) { b.mu.Lock(); b.provider = p; b.mu.Unlock() }

// Provider returns the provider's standing.
func (b *Board) Provider() Provider { b.mu.RLock(); defer b.mu.RUnlock(); return b.provider }

// UnbiddableGPU is a GPU the bidder can never offer, and why.
type UnbiddableGPU struct {
	UUID  string
	Class string
	// Reason is unknown_class, no_price or unhealthy; Detail says it in
	// words.
	Reason string
	Detail string
}

// AutoBond is what auto-bonding is doing, as the last sync left it.
type AutoBond struct {
	// Held is true while auto-bonding waits for the operator (an unbond
	// the sidecar did not make, or a required bond above
	// provider.max_auto_bond, or one the chain's params do not explain).
	Held   bool
	Reason string
	// LastError is the last failed bond (e.g. insufficient funds).
	LastError string
}

// SetUnbiddable records the GPUs that can never get a bid.
func (b *Board) SetUnbiddable(list []UnbiddableGPU) {
	b.mu.Lock()
	b.unbiddable = list
	b.mu.Unlock()
}

// Unbiddable returns the GPUs that can never get a bid.
func (b *Board) Unbiddable() []UnbiddableGPU { b.mu.RLock(); defer b.mu.RUnlock(); return b.unbiddable }

// SetAutoBond records what auto-bonding is doing.
func (b *Board) SetAutoBond(a AutoBond) { b.mu.Lock(); b.autoBond = a; b.mu.Unlock() }

// AutoBond returns what auto-bonding is doing.
func (b *Board) AutoBond() AutoBond { b.mu.RLock(); defer b.mu.RUnlock(); return b.autoBond }

// SetProvisioningProblem records why the lease manager cannot provision
// leases now ("" = it can).
func (b *Board) SetProvisioningProblem(reason string) {
	b.mu.Lock()
	b.provisioning = reason
	b.mu.Unlock()
}

// ProvisioningProblem returns why leases cannot be provisioned now, or "".
func (b *Board) ProvisioningProblem() string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.provisioning
}
