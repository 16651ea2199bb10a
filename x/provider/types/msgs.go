package types

import (
	"fmt"
	"regexp"
	"strings"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/x/internal/text"
)

// Limits on provider details.
const (
	MaxMonikerLen = 64
	MaxHostURILen = 256
	MaxContactLen = 128
)

var (
	regionRe        = regexp.MustCompile(`^[A-Z]{2}(-[a-z0-9][a-z0-9-]{0,31})?$`)
	nodeIDRe        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	gpuUUIDRe       = regexp.MustCompile(`^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	computeCapRe    = regexp.MustCompile(`^[0-9]{1,2}\.[0-9]{1,2}$`)
	driverVersionRe = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.-]{0,31}$`)
)

var (
	_ sdk.HasValidateBasic = (*MsgRegisterProvider)(nil)
	_ sdk.HasValidateBasic = (*MsgUpdateProvider)(nil)
	_ sdk.HasValidateBasic = (*MsgSetInventory)(nil)
	_ sdk.HasValidateBasic = (*MsgDeregisterProvider)(nil)
	_ sdk.HasValidateBasic = (*MsgUpdateParams)(nil)
)

func validateAddress(field, addr string) error {
	if _, err := sdk.AccAddressFromBech32(addr); err != nil {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "%s %q: %s", field, addr, err)
	}
	return nil
}

// ValidateMoniker checks a provider moniker: 1 to MaxMonikerLen bytes of
// free text (text.CheckText: printable UTF-8, no markup characters, no
// surrounding spaces).
func ValidateMoniker(moniker string) error {
	if moniker == "" || len(moniker) > MaxMonikerLen {
		return errorsmod.Wrapf(ErrInvalidProvider, "moniker %s must be 1-%d bytes", text.Quote(moniker), MaxMonikerLen)
	}
	if err := text.CheckText(moniker); err != nil {
		return errorsmod.Wrapf(ErrInvalidProvider, "moniker %s: %s", text.Quote(moniker), err)
	}
	return nil
}

// ValidateHostURI checks the URL of a provider's sidecar API without state:
// 1 to MaxHostURILen bytes, an absolute ASCII URI with a host and no user
// information (text.CheckURI), whose scheme is not one of
// text.DeniedSchemes. Whether the params allow its scheme is
// Params.CheckHostURIScheme.
func ValidateHostURI(hostURI string) error {
	if hostURI == "" || len(hostURI) > MaxHostURILen {
		return errorsmod.Wrapf(ErrInvalidProvider, "host_uri %s must be 1-%d bytes", text.Quote(hostURI), MaxHostURILen)
	}
	u, err := text.CheckURI(hostURI)
	if err != nil {
		return errorsmod.Wrapf(ErrInvalidProvider, "host_uri %s: %s", text.Quote(hostURI), err)
	}
	if u.User != nil {
		return errorsmod.Wrapf(ErrInvalidProvider, "host_uri %s must carry no credentials or user name", text.Quote(hostURI))
	}
	return nil
}

// ValidateRegion checks a region: an ISO 3166-1 alpha-2 code in capitals,
// optionally followed by "-" and a lowercase zone ("US", "DE-fra1").
func ValidateRegion(region string) error {
	if !regionRe.MatchString(region) {
		return errorsmod.Wrapf(ErrInvalidProvider,
			"region %s must be an ISO 3166-1 alpha-2 code, optionally '-' and a lowercase zone (e.g. US, DE-fra1)", text.Quote(region))
	}
	return nil
}

// ValidateContact checks an optional contact: at most MaxContactLen bytes
// of free text (text.CheckText). An e-mail address goes in bare
// (ops@acme.example), not as "Name <address>".
func ValidateContact(contact string) error {
	if len(contact) > MaxContactLen {
		return errorsmod.Wrapf(ErrInvalidProvider, "contact %s must be at most %d bytes", text.Quote(contact), MaxContactLen)
	}
	if err := text.CheckText(contact); err != nil {
		return errorsmod.Wrapf(ErrInvalidProvider, "contact %s: %s", text.Quote(contact), err)
	}
	return nil
}

// Country returns the country code of a region.
func Country(region string) string {
	country, _, _ := strings.Cut(region, "-")
	return country
}

// ValidateBasic checks the message without state.
func (m *MsgRegisterProvider) ValidateBasic() error {
	if err := validateAddress("owner", m.Owner); err != nil {
		return err
	}
	if err := ValidateMoniker(m.Moniker); err != nil {
		return err
	}
	if err := ValidateHostURI(m.HostUri); err != nil {
		return err
	}
	if err := ValidateRegion(m.Region); err != nil {
		return err
	}
	return ValidateContact(m.Contact)
}

// ValidateBasic checks the message without state: set fields are valid and
// at least one is set.
func (m *MsgUpdateProvider) ValidateBasic() error {
	if err := validateAddress("owner", m.Owner); err != nil {
		return err
	}
	if m.Moniker == "" && m.HostUri == "" && m.Region == "" && m.Contact == "" {
		return errorsmod.Wrap(ErrInvalidProvider, "nothing to update: set at least one of moniker, host_uri, region, contact")
	}
	if m.Moniker != "" {
		if err := ValidateMoniker(m.Moniker); err != nil {
			return err
		}
	}
	if m.HostUri != "" {
		if err := ValidateHostURI(m.HostUri); err != nil {
			return err
		}
	}
	if m.Region != "" {
		if err := ValidateRegion(m.Region); err != nil {
			return err
		}
	}
	return ValidateContact(m.Contact)
}

// ValidateBasic checks the message without state: the shape of every node
// and GPU. Checks against the params (classes, baseline) and other
// providers' GPUs are made by the keeper.
func (m *MsgSetInventory) ValidateBasic() error {
	if err := validateAddress("owner", m.Owner); err != nil {
		return err
	}
	return ValidateNodes(m.Nodes)
}

// ValidateNodes checks the shape of an inventory as a provider submits it:
// ids, formats, limits and uniqueness of node ids and GPU UUIDs within it;
// the chain-set fields (allocated_to, verified, verified_height) must be
// empty.
func ValidateNodes(nodes []Node) error {
	return validateNodes(nodes, false)
}

func validateNodes(nodes []Node, chainFields bool) error {
	if len(nodes) > MaxNodesPerProviderLimit {
		return errorsmod.Wrapf(ErrInvalidInventory, "nodes: %d nodes, at most %d", len(nodes), MaxNodesPerProviderLimit)
	}
	nodeIDs := make(map[string]bool, len(nodes))
	uuids := make(map[string]string)
	for i, n := range nodes {
		if !nodeIDRe.MatchString(n.Id) {
			return errorsmod.Wrapf(ErrInvalidInventory,
				"nodes[%d].id %q must be 1-64 letters, digits, '.', '_' or '-'", i, n.Id)
		}
		if nodeIDs[n.Id] {
			return errorsmod.Wrapf(ErrInvalidInventory, "nodes[%d].id %q is listed twice", i, n.Id)
		}
		nodeIDs[n.Id] = true
		if n.CpuCores == 0 {
			return errorsmod.Wrapf(ErrInvalidInventory, "nodes[%d].cpu_cores must be positive, got 0", i)
		}
		if !tokenRe.MatchString(n.Interconnect) {
			return errorsmod.Wrapf(ErrInvalidInventory,
				"nodes[%d].interconnect %q must be a lowercase token (e.g. infiniband, roce, ethernet)", i, n.Interconnect)
		}
		if len(n.Gpus) > MaxGPUsPerNodeLimit {
			return errorsmod.Wrapf(ErrInvalidInventory, "nodes[%d].gpus: %d GPUs, at most %d", i, len(n.Gpus), MaxGPUsPerNodeLimit)
		}
		for j, g := range n.Gpus {
			if err := g.validateBasic(chainFields); err != nil {
				return errorsmod.Wrapf(ErrInvalidInventory, "nodes[%d].gpus[%d].%s", i, j, err)
			}
			if prev, ok := uuids[g.Uuid]; ok {
				return errorsmod.Wrapf(ErrInvalidInventory, "nodes[%d].gpus[%d].uuid %s is already listed on node %q", i, j, g.Uuid, prev)
			}
			uuids[g.Uuid] = n.Id
		}
	}
	return nil
}

// validateBasic checks one GPU; the returned message starts with the field
// name. chainFields allows the fields only the chain sets (genesis).
func (g GPU) validateBasic(chainFields bool) error {
	switch {
	case !gpuUUIDRe.MatchString(g.Uuid):
		return fmt.Errorf("uuid %q must be GPU- and a lowercase canonical UUID", g.Uuid)
	case g.Class != UnknownClass && !tokenRe.MatchString(g.Class):
		return fmt.Errorf("class %q must be a GPU class name or %q", g.Class, UnknownClass)
	case g.VramMib == 0:
		return fmt.Errorf("vram_mib must be positive, got 0")
	case !pciRe.MatchString(g.PciDeviceId):
		return fmt.Errorf("pci_device_id %q must be 0x and 4 lowercase hex digits", g.PciDeviceId)
	case !computeCapRe.MatchString(g.ComputeCapability):
		return fmt.Errorf("compute_capability %q must be major.minor (e.g. 9.0)", g.ComputeCapability)
	case !driverVersionRe.MatchString(g.DriverVersion):
		return fmt.Errorf("driver_version %q must be 1-32 letters, digits, '.' or '-'", g.DriverVersion)
	case g.VerifiedHeight < 0 || (g.Verified != (g.VerifiedHeight > 0)):
		return fmt.Errorf("verified_height %d does not match verified %t: a verified GPU has the height of its check, an unverified one 0",
			g.VerifiedHeight, g.Verified)
	case chainFields:
		return nil
	case g.AllocatedTo != "":
		return fmt.Errorf("allocated_to %q is set by the chain and must be empty", g.AllocatedTo)
	case g.Verified:
		return fmt.Errorf("verified is set by the chain and must be false")
	}
	return nil
}

// ValidateBasic checks the message without state.
func (m *MsgDeregisterProvider) ValidateBasic() error {
	return validateAddress("owner", m.Owner)
}

// ValidateBasic checks the message without state: the authority is an
// address and the parameters are valid.
func (m *MsgUpdateParams) ValidateBasic() error {
	if err := validateAddress("authority", m.Authority); err != nil {
		return err
	}
	if err := m.Params.Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidParams, err.Error())
	}
	return nil
}
