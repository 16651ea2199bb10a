package leases

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Phase is how far the sidecar got with a lease. A record is saved in
// PhaseStarting before on_lease_start runs, so that whatever happens next
// (the hook fails or times out, the lease closes, the sidecar crashes)
// on_lease_end runs for it.
type Phase string

const (
	// PhaseStarting: on_lease_start is running, or was when the sidecar
	// stopped; found on restart, it is cleaned up with on_lease_end.
	PhaseStarting Phase = "starting"
	// PhaseStarted: on_lease_start succeeded; the endpoint is not yet on
	// chain (only MsgSetLeaseAccess is retried).
	PhaseStarted Phase = "started"
	// PhaseAccessPosted: provisioned, and the endpoint is on chain (or this
	// machine does not post it).
	PhaseAccessPosted Phase = "access_posted"
	// PhaseEnding: on_lease_end runs until it succeeds; then the record
	// is removed.
	PhaseEnding Phase = "ending"
)

// Record is what the sidecar remembers about a lease it provisions, so
// that whatever it started is torn down, including after a crash or
// while it was down.
type Record struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant"`
	Seq         uint64    `json:"seq"`
	GPUs        []string  `json:"gpus"` // this machine's GPUs of the lease, as the hooks were told
	Endpoint    string    `json:"endpoint"`
	Provisioned time.Time `json:"provisioned_at"`
	// Phase is empty in files written before phases existed: those
	// records were provisioned (PhaseAccessPosted).
	Phase Phase `json:"phase,omitempty"`
	// Posts is whether this machine posts the endpoint (it holds the
	// lease's first GPU).
	Posts bool `json:"posts,omitempty"`
	// CloseReason is on_lease_end's GPUMESH_CLOSE_REASON, set with
	// PhaseEnding.
	CloseReason string `json:"close_reason,omitempty"`
}

// phase is the record's phase, PhaseAccessPosted for old records.
func (r Record) phase() Phase {
	if r.Phase == "" {
		return PhaseAccessPosted
	}
	return r.Phase
}

// Store is the provisioned-lease file (JSON, replaced atomically).
type Store struct {
	path string
}

// NewStore keeps its file at path.
func NewStore(path string) *Store { return &Store{path: path} }

// Load reads the records; a missing file is an empty set.
func (s *Store) Load() (map[string]Record, error) {
	out := map[string]Record{}
	bz, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	var list []Record
	if err := json.Unmarshal(bz, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	for _, r := range list {
		out[r.ID] = r
	}
	return out, nil
}

// Save writes the records through a temporary file, fsync and a rename,
// then fsyncs the directory: once it returns, the new set survives a
// crash or power loss, and a crash before leaves the old one.
func (s *Store) Save(records map[string]Record) error {
	list := make([]Record, 0, len(records))
	for _, r := range records {
		list = append(list, r)
	}
	sortRecords(list)
	bz, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := writeSynced(tmp, bz); err != nil {
		return fmt.Errorf("%s: %w", tmp, err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return err
	}
	d, err := os.Open(dir) //nolint:gosec // the sidecar's data directory
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return fmt.Errorf("%s: %w", dir, err)
	}
	return d.Close()
}

func writeSynced(path string, bz []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) //nolint:gosec // the sidecar's data file
	if err != nil {
		return err
	}
	if _, err := f.Write(bz); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
