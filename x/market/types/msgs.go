package types

import (
	"strings"
	"unicode"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
)

var (
	_ sdk.HasValidateBasic = (*MsgCreateOrder)(nil)
	_ sdk.HasValidateBasic = (*MsgCloseOrder)(nil)
	_ sdk.HasValidateBasic = (*MsgCreateBid)(nil)
	_ sdk.HasValidateBasic = (*MsgCloseBid)(nil)
	_ sdk.HasValidateBasic = (*MsgAcceptBid)(nil)
	_ sdk.HasValidateBasic = (*MsgCloseLease)(nil)
	_ sdk.HasValidateBasic = (*MsgSetLeaseAccess)(nil)
	_ sdk.HasValidateBasic = (*MsgUpdateParams)(nil)
)

// sshKeyPrefixes are the key type prefixes of OpenSSH public keys
// (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, sk-ssh-ed25519@openssh.com…).
var sshKeyPrefixes = []string{"ssh-", "ecdsa-", "sk-"}

func validateAddress(field, addr string) error {
	if _, err := sdk.AccAddressFromBech32(addr); err != nil {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "%s %q: %s", field, addr, err)
	}
	return nil
}

// validatePrice checks a price: a valid coin with a positive amount below
// 2^MaxPriceBits. err wraps the error of the message's object.
func validatePrice(err *errorsmod.Error, field string, c sdk.Coin) error {
	if e := c.Validate(); e != nil {
		return errorsmod.Wrapf(err, "%s %s: %s", field, c, e)
	}
	if !c.IsPositive() {
		return errorsmod.Wrapf(err, "%s must be positive, got %s", field, c)
	}
	if c.Amount.BigInt().BitLen() > MaxPriceBits {
		return errorsmod.Wrapf(err, "%s %s: the amount must be below 2^%d", field, c, MaxPriceBits)
	}
	return nil
}

// validateDeposit checks a deposit: a valid coin with a positive amount.
func validateDeposit(err *errorsmod.Error, field string, c sdk.Coin) error {
	if e := c.Validate(); e != nil {
		return errorsmod.Wrapf(err, "%s %s: %s", field, c, e)
	}
	if !c.IsPositive() {
		return errorsmod.Wrapf(err, "%s must be positive, got %s", field, c)
	}
	return nil
}

// ValidateSSHPubkey checks an optional OpenSSH public key: at most
// MaxSSHPubkeyLength printable bytes on one line, starting with a key type
// (ssh-, ecdsa- or sk-).
func ValidateSSHPubkey(key string) error {
	if key == "" {
		return nil
	}
	if len(key) > MaxSSHPubkeyLength {
		return errorsmod.Wrapf(ErrInvalidOrder, "ssh_pubkey is %d bytes, at most %d", len(key), MaxSSHPubkeyLength)
	}
	if strings.ContainsAny(key, "\r\n") || !printable(key) {
		return errorsmod.Wrapf(ErrInvalidOrder, "ssh_pubkey %q must be one line of printable characters", abbreviate(key))
	}
	for _, p := range sshKeyPrefixes {
		if strings.HasPrefix(key, p) {
			return nil
		}
	}
	return errorsmod.Wrapf(ErrInvalidOrder,
		"ssh_pubkey %q is not an OpenSSH public key (it must start with ssh-, ecdsa- or sk-, e.g. ssh-ed25519 AAAA…)", abbreviate(key))
}

// ValidateEndpoint checks a lease access endpoint: 1 to MaxEndpointLength
// printable bytes with no spaces (ssh://user@host:port, https://…).
func ValidateEndpoint(endpoint string) error {
	if endpoint == "" || len(endpoint) > MaxEndpointLength {
		return errorsmod.Wrapf(ErrInvalidEndpoint, "endpoint %q must be 1-%d bytes", abbreviate(endpoint), MaxEndpointLength)
	}
	for _, r := range endpoint {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return errorsmod.Wrapf(ErrInvalidEndpoint, "endpoint %q must be printable, on one line, without spaces", endpoint)
		}
	}
	return nil
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// abbreviate shortens a long value for an error message.
func abbreviate(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}

// ValidateBasic checks the message without state: the tenant, the spec, a
// positive maximum price, a positive deposit in the same denom and the SSH
// key. The denom, node count, window, duration and deposit size are checked
// against the params by the keeper.
func (m *MsgCreateOrder) ValidateBasic() error {
	if err := validateAddress("tenant", m.Tenant); err != nil {
		return err
	}
	if err := ValidateSpec(m.Spec); err != nil {
		return err
	}
	if err := validatePrice(ErrInvalidOrder, "max_price_per_gpu_hour", m.MaxPricePerGpuHour); err != nil {
		return err
	}
	if err := validateDeposit(ErrInvalidOrder, "deposit", m.Deposit); err != nil {
		return err
	}
	if m.Deposit.Denom != m.MaxPricePerGpuHour.Denom {
		return errorsmod.Wrapf(ErrInvalidOrder, "deposit denom %q must be the denom of max_price_per_gpu_hour %q",
			m.Deposit.Denom, m.MaxPricePerGpuHour.Denom)
	}
	return ValidateSSHPubkey(m.SshPubkey)
}

// ValidateBasic checks the message without state.
func (m *MsgCloseOrder) ValidateBasic() error {
	if err := validateAddress("tenant", m.Tenant); err != nil {
		return err
	}
	return OrderID{Tenant: m.Tenant, Seq: m.Seq}.Validate()
}

// ValidateBasic checks the message without state: the provider, the order
// id, a positive price, 1 to MaxGPUsPerBid distinct GPU UUIDs and a positive
// deposit.
func (m *MsgCreateBid) ValidateBasic() error {
	if err := validateAddress("provider", m.Provider); err != nil {
		return err
	}
	if err := m.OrderId.Validate(); err != nil {
		return err
	}
	if err := validatePrice(ErrInvalidBid, "price_per_gpu_hour", m.PricePerGpuHour); err != nil {
		return err
	}
	if len(m.Gpus) == 0 || len(m.Gpus) > MaxGPUsPerBid {
		return errorsmod.Wrapf(ErrInvalidBid, "gpus: want 1-%d GPU UUIDs, got %d", MaxGPUsPerBid, len(m.Gpus))
	}
	seen := make(map[string]bool, len(m.Gpus))
	for i, g := range m.Gpus {
		if g == "" || len(g) > MaxGPUUUIDLength {
			return errorsmod.Wrapf(ErrInvalidBid, "gpus[%d] %q must be a GPU UUID of 1-%d bytes", i, abbreviate(g), MaxGPUUUIDLength)
		}
		if seen[g] {
			return errorsmod.Wrapf(ErrInvalidBid, "gpus[%d] %s is listed twice", i, g)
		}
		seen[g] = true
	}
	return validateDeposit(ErrInvalidBid, "deposit", m.Deposit)
}

// ValidateBasic checks the message without state.
func (m *MsgCloseBid) ValidateBasic() error {
	if err := validateAddress("provider", m.Provider); err != nil {
		return err
	}
	return m.OrderId.Validate()
}

// ValidateBasic checks the message without state.
func (m *MsgAcceptBid) ValidateBasic() error {
	if err := validateAddress("tenant", m.Tenant); err != nil {
		return err
	}
	if err := (OrderID{Tenant: m.Tenant, Seq: m.Seq}).Validate(); err != nil {
		return err
	}
	return validateAddress("provider", m.Provider)
}

// ValidateBasic checks the message without state.
func (m *MsgCloseLease) ValidateBasic() error {
	if err := validateAddress("sender", m.Sender); err != nil {
		return err
	}
	return m.LeaseId.Validate()
}

// ValidateBasic checks the message without state.
func (m *MsgSetLeaseAccess) ValidateBasic() error {
	if err := validateAddress("provider", m.Provider); err != nil {
		return err
	}
	if err := m.LeaseId.Validate(); err != nil {
		return err
	}
	return ValidateEndpoint(m.Endpoint)
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
