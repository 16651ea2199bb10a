package types

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/x/internal/text"
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

// SSHKeyTypes are the OpenSSH public key types an order may carry: those
// `ssh-keygen -t` makes today (ed25519, RSA, ECDSA, and the FIDO ed25519
// and ECDSA keys). DSA is not: OpenSSH no longer accepts it.
var SSHKeyTypes = []string{
	"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
}

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

// ValidateSSHPubkey checks an optional OpenSSH public key, one line of
// authorized_keys as `ssh-keygen` writes it in id_*.pub: at most
// MaxSSHPubkeyLength bytes; "type body" or "type body comment" separated by
// single spaces; a type of SSHKeyTypes (so no authorized_keys options such
// as command="…" before it); a body in padded standard base64 whose
// decoded key starts with the same type, length-prefixed as SSH writes it;
// a comment of free text (text.CheckText: printable, no markup, no
// surrounding spaces). The key material itself is not parsed.
func ValidateSSHPubkey(key string) error {
	if key == "" {
		return nil
	}
	if len(key) > MaxSSHPubkeyLength {
		return errorsmod.Wrapf(ErrInvalidOrder, "ssh_pubkey %s is %d bytes, at most %d", text.Quote(key), len(key), MaxSSHPubkeyLength)
	}
	if err := checkSSHPubkey(key); err != nil {
		return errorsmod.Wrapf(ErrInvalidOrder, "ssh_pubkey %s: %s", text.Quote(key), err)
	}
	return nil
}

func checkSSHPubkey(key string) error {
	if err := text.CheckPrintable(key); err != nil {
		return err // a second line, a control or bidi character
	}
	keyType, rest, _ := strings.Cut(key, " ")
	if !slices.Contains(SSHKeyTypes, keyType) {
		return fmt.Errorf("key type %s is not one of %s (an OpenSSH public key line: type, base64 key, comment)",
			text.Quote(keyType), strings.Join(SSHKeyTypes, ", "))
	}
	body, comment, hasComment := strings.Cut(rest, " ")
	if body == "" {
		return fmt.Errorf("has no base64 body after the key type %s and one space", keyType)
	}
	blob, err := base64.StdEncoding.Strict().DecodeString(body)
	if err != nil {
		return fmt.Errorf("body is not base64: %w", err)
	}
	// The key starts with its type as an SSH string: a 4-byte big-endian
	// length and the bytes (RFC 4253 §6.6).
	if len(blob) < 4 {
		return errors.New("body encodes no key type")
	}
	n := uint64(binary.BigEndian.Uint32(blob))
	if n > uint64(len(blob)-4) {
		return errors.New("body encodes no key type")
	}
	if inner := string(blob[4 : 4+n]); inner != keyType {
		return fmt.Errorf("body encodes a %s key, not %q", text.Quote(inner), keyType)
	}
	if !hasComment {
		return nil
	}
	if comment == "" {
		return errors.New("has a leading or trailing space")
	}
	if err := text.CheckText(comment); err != nil {
		return fmt.Errorf("comment %s: %w", text.Quote(comment), err)
	}
	return nil
}

// ValidateEndpoint checks a lease access endpoint without state: 1 to
// MaxEndpointLength bytes, an absolute ASCII URI with a host and no
// password (text.CheckURI: ssh://user@host:port, https://host/path),
// whose scheme is not one of text.DeniedSchemes. Whether the params allow
// its scheme is Params.CheckEndpointScheme.
func ValidateEndpoint(endpoint string) error {
	if endpoint == "" || len(endpoint) > MaxEndpointLength {
		return errorsmod.Wrapf(ErrInvalidEndpoint, "endpoint %s must be 1-%d bytes", text.Quote(endpoint), MaxEndpointLength)
	}
	if _, err := text.CheckURI(endpoint); err != nil {
		return errorsmod.Wrapf(ErrInvalidEndpoint, "endpoint %s: %s", text.Quote(endpoint), err)
	}
	return nil
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
			return errorsmod.Wrapf(ErrInvalidBid, "gpus[%d] %s must be a GPU UUID of 1-%d bytes", i, text.Quote(g), MaxGPUUUIDLength)
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
