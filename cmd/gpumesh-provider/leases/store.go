package leases

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Record is what the sidecar remembers about a lease it provisioned, so
// that a lease closed while it was down is still torn down.
type Record struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant"`
	Seq         uint64    `json:"seq"`
	GPUs        []string  `json:"gpus"`
	Endpoint    string    `json:"endpoint"`
	Provisioned time.Time `json:"provisioned_at"`
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

// Save writes the records through a temporary file and a rename, so a
// crash leaves either the old or the new file.
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
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, bz, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}
