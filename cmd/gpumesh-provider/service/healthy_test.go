package service

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
)

// The bidder's gate is closed before NVML answers and while the lease
// manager reports that leases cannot be provisioned.
func TestHealthyGateClosedWhileProvisioningCannotWork(t *testing.T) {
	b := state.NewBoard()
	healthy := Healthy(b)
	require.Nil(t, healthy(), "NVML has not answered")

	b.SetGPUs([]state.GPU{{GPU: gpus.GPU{UUID: "GPU-a", Healthy: true}}, {GPU: gpus.GPU{UUID: "GPU-b"}}}, true, "mock")
	require.Equal(t, map[string]bool{"GPU-a": true, "GPU-b": false}, healthy())

	b.SetProvisioningProblem("leases.on_lease_start: program /etc/gpumesh/start.sh: no such file or directory")
	require.Nil(t, healthy(), "no bids while a won lease could not be provisioned")

	b.SetProvisioningProblem("")
	require.Equal(t, map[string]bool{"GPU-a": true, "GPU-b": false}, healthy())
}
