package leases

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testRecords() map[string]Record {
	at := time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	return map[string]Record{
		"mesh1tenantb/2": {ID: "mesh1tenantb/2", Tenant: "mesh1tenantb", Seq: 2, GPUs: []string{"GPU-2"},
			Endpoint: "ssh://b@host:2202", Provisioned: at.Add(time.Hour)},
		"mesh1tenanta/9": {ID: "mesh1tenanta/9", Tenant: "mesh1tenanta", Seq: 9, GPUs: []string{"GPU-0", "GPU-1"},
			Endpoint: "ssh://a@host:2201", Provisioned: at},
	}
}

// Records saved are loaded back unchanged; the file is created with its
// directory, readable by the owner only, sorted by lease, and no temporary
// file is left beside it.
func TestStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "leases.json")
	s := NewStore(path)
	want := testRecords()
	require.NoError(t, s.Save(want))

	got, err := s.Load()
	require.NoError(t, err)
	require.Equal(t, want, got)

	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the records file, no leftover temporary file")
	require.Equal(t, "leases.json", entries[0].Name())
	require.NoFileExists(t, path+".tmp")

	bz, err := os.ReadFile(path) //nolint:gosec // a test file
	require.NoError(t, err)
	var list []Record
	require.NoError(t, json.Unmarshal(bz, &list))
	require.Len(t, list, 2)
	require.Equal(t, "mesh1tenanta/9", list[0].ID, "records are written in lease order")
	require.Equal(t, "mesh1tenantb/2", list[1].ID)

	// Saving again replaces the set: a removed lease is gone.
	delete(want, "mesh1tenanta/9")
	require.NoError(t, s.Save(want))
	got, err = s.Load()
	require.NoError(t, err)
	require.Equal(t, want, got)

	// And an empty set is an empty file, not a missing one.
	require.NoError(t, s.Save(map[string]Record{}))
	got, err = s.Load()
	require.NoError(t, err)
	require.Empty(t, got)
	require.FileExists(t, path)
}

// A temporary file left by a crash mid-write does not stop the next save,
// and the previous file stays intact until the rename.
func TestStoreSaveAfterInterruptedWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.json")
	s := NewStore(path)
	require.NoError(t, s.Save(testRecords()))
	require.NoError(t, os.WriteFile(path+".tmp", []byte(`[{"id": "half`), 0o600))

	got, err := s.Load()
	require.NoError(t, err, "the half-written temporary file is not read")
	require.Equal(t, testRecords(), got)

	one := map[string]Record{"t/1": {ID: "t/1", Tenant: "t", Seq: 1}}
	require.NoError(t, s.Save(one))
	require.NoFileExists(t, path+".tmp")
	got, err = s.Load()
	require.NoError(t, err)
	require.Equal(t, one, got)
}

// A missing file is an empty, usable set.
func TestStoreMissingFileIsEmpty(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "nope", "leases.json"))
	got, err := s.Load()
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)
	got["x/1"] = Record{ID: "x/1"} // writable
}

// A corrupt file is an error that names the file.
func TestStoreCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"not": "a list"`), 0o600))
	got, err := NewStore(path).Load()
	require.Error(t, err)
	require.Nil(t, got)
	require.Contains(t, err.Error(), path)

	// A file that cannot be read (here: a directory) is an error too.
	dirPath := filepath.Join(t.TempDir(), "dir")
	require.NoError(t, os.Mkdir(dirPath, 0o700))
	_, err = NewStore(dirPath).Load()
	require.Error(t, err)
}

// The phase, posting machine and close reason survive a save; a file
// written before phases existed reads as provisioned.
func TestStorePhases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.json")
	s := NewStore(path)
	want := map[string]Record{
		"t/1": {ID: "t/1", Tenant: "t", Seq: 1, GPUs: []string{"GPU-a"}, Phase: PhaseStarting, Posts: true},
		"t/2": {ID: "t/2", Tenant: "t", Seq: 2, GPUs: []string{"GPU-b"}, Phase: PhaseEnding, CloseReason: "provisioning_failed"},
	}
	require.NoError(t, s.Save(want))
	got, err := s.Load()
	require.NoError(t, err)
	require.Equal(t, want, got)

	require.NoError(t, os.WriteFile(path, []byte(`[{"id": "t/3", "tenant": "t", "seq": 3, "gpus": ["GPU-c"],
	  "endpoint": "ssh://x", "provisioned_at": "2025-01-01T00:00:00Z"}]`), 0o600))
	got, err = s.Load()
	require.NoError(t, err)
	require.Equal(t, PhaseAccessPosted, got["t/3"].phase())
	require.Empty(t, got["t/3"].Phase, "written back as it was read")
}
