package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/service"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// configOrDefault loads the home's config when there is one, else the
// defaults (for commands that are useful before init).
func configOrDefault(h string) (config.Config, bool, error) {
	if _, err := os.Stat(filepath.Join(h, config.FileName)); err != nil {
		return config.Default(), false, nil
	}
	cfg, err := config.Load(h)
	return cfg, true, err
}

func inventoryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "List the GPUs NVML finds, with class and health, as a table or as set-inventory JSON",
		Long: `List the GPUs NVML finds: UUID, name, PCI device id, the GPU class it maps to (from the PCI
device id, never the name; "unknown" when no class matches), memory, compute capability,
driver version, MIG mode and health (lost GPUs, critical Xid errors, uncorrected ECC errors).

-o json prints exactly what "gpumeshd tx provider set-inventory" accepts: this node (from the
config, or defaults) with its healthy GPUs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := configOrDefault(home(cmd))
			if err != nil {
				return err
			}
			mode := cfg.NVML.Mode
			if cmd.Flags().Changed(flagNVML) {
				mode, _ = cmd.Flags().GetString(flagNVML)
			}
			src, err := openGPUs(mode, cfg.Provider.Node.ID, nil)
			if err != nil {
				return err
			}
			defer func() { _ = src.Close() }()
			list, err := src.GPUs()
			if err != nil {
				return err
			}
			out, _ := cmd.Flags().GetString("output")
			switch out {
			case "json":
				healthy := make([]gpus.GPU, 0, len(list))
				for _, g := range list {
					if g.Healthy {
						healthy = append(healthy, g)
					}
				}
				bz, err := providertypes.MarshalInventoryJSON(gpus.Inventory(service.NodeInfo(cfg.Provider.Node), healthy))
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(bz)
				return err
			case "table":
				outf(cmd.OutOrStdout(), "%s, node %q\n", src.Describe(), cfg.Provider.Node.ID)
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				outln(w, "IDX\tUUID\tNAME\tPCI ID\tCLASS\tVRAM MiB\tCC\tDRIVER\tMIG\tHEALTH")
				for _, g := range list {
					mig := "off"
					if g.MIG {
						mig = "on"
					}
					outf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", g.Index, g.UUID, g.Name, g.PCIDeviceID,
						g.Class, g.VramMiB, g.ComputeCapability, g.DriverVersion, mig, g.Health)
				}
				return w.Flush()
			default:
				return fmt.Errorf("--output %q: want table or json", out)
			}
		},
	}
	cmd.Flags().String(flagNVML, "auto", "auto, real or mock:<profile> (default: the config's nvml.mode)")
	cmd.Flags().StringP("output", "o", "table", "table or json")
	return cmd
}
