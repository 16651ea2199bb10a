package gpus

// model is one GPU model of a mock profile.
type model struct {
	name        string
	pci         uint32 // NVML's combined id: device<<16 | vendor
	memMiB      uint64
	ccMajor     int
	ccMinor     int
	idleWatts   uint32
	limitWatts  uint32
	smClockMHz  uint32
	memClockMHz uint32
}

var (
	h100SXM  = model{"NVIDIA H100 80GB HBM3", 0x233010DE, 81559, 9, 0, 70, 700, 1980, 2619}
	h100PCIe = model{"NVIDIA H100 PCIe", 0x233110DE, 81559, 9, 0, 50, 350, 1755, 1593}
	a100SXM  = model{"NVIDIA A100-SXM4-40GB", 0x20B010DE, 40960, 8, 0, 55, 400, 1410, 1215}
	l40s     = model{"NVIDIA L40S", 0x26B910DE, 46068, 8, 9, 35, 350, 2520, 9001}
	rtx4090  = model{"NVIDIA GeForce RTX 4090", 0x268410DE, 24564, 8, 9, 25, 450, 2520, 10501}
	t4       = model{"NVIDIA T4", 0x1EB810DE, 15360, 7, 5, 10, 70, 1590, 5001}
)

// profiles are the mock machines by name: the only package-level table.
// dgx-a100 is built on go-nvml's own dgxa100 mock server, with the a100SXM
// model supplying the readings its devices lack.
var profiles = map[string][]model{
	"dgx-h100":  {h100SXM, h100SXM, h100SXM, h100SXM, h100SXM, h100SXM, h100SXM, h100SXM},
	"dgx-a100":  {a100SXM, a100SXM, a100SXM, a100SXM, a100SXM, a100SXM, a100SXM, a100SXM},
	"rtx4090x4": {rtx4090, rtx4090, rtx4090, rtx4090},
	"mixed":     {h100PCIe, h100PCIe, l40s, l40s, t4},
}

// Versions the mocks report (those of go-nvml's dgxa100 mock).
const (
	mockDriver     = "550.54.15"
	mockNVML       = "12.550.54.15"
	mockCUDADriver = 12040
)
