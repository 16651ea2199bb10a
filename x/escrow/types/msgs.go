package types

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
)

var (
	_ sdk.HasValidateBasic = (*MsgDeposit)(nil)
	_ sdk.HasValidateBasic = (*MsgWithdraw)(nil)
	_ sdk.HasValidateBasic = (*MsgUpdateParams)(nil)
)

func validateAddress(field, addr string) error {
	if _, err := sdk.AccAddressFromBech32(addr); err != nil {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "%s %q: %s", field, addr, err)
	}
	return nil
}

// ValidatePositiveCoin checks that a coin is well formed and positive,
// naming the field.
func ValidatePositiveCoin(field string, c sdk.Coin) error {
	if c.Amount.IsNil() {
		return errorsmod.Wrapf(ErrInvalidAmount, "%s must be set, got denom %q and no amount", field, c.Denom)
	}
	if err := c.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidAmount, "%s %q: %s", field, c.String(), err)
	}
	if !c.IsPositive() {
		return errorsmod.Wrapf(ErrInvalidAmount, "%s must be positive, got %q", field, c.String())
	}
	return nil
}

// ValidateBasic checks the message without state: a valid sender, a valid
// account id and a valid, positive amount. The denom is checked against the
// account's by the handler.
func (m *MsgDeposit) ValidateBasic() error {
	if err := validateAddress("sender", m.Sender); err != nil {
		return err
	}
	if err := m.Id.Validate(); err != nil {
		return errorsmod.Wrap(err, "id")
	}
	return ValidatePositiveCoin("amount", m.Amount)
}

// ValidateBasic checks the message without state: a valid provider, 1 to
// MaxWithdrawLeases valid lease ids and no duplicates. Errors name the
// index (lease_ids[3] …).
func (m *MsgWithdraw) ValidateBasic() error {
	if err := validateAddress("provider", m.Provider); err != nil {
		return err
	}
	return ValidateWithdrawIDs(m.LeaseIds)
}

// ValidateWithdrawIDs checks the lease ids of a withdrawal: 1 to
// MaxWithdrawLeases valid ids, no duplicates.
func ValidateWithdrawIDs(ids []AccountID) error {
	if len(ids) == 0 {
		return errorsmod.Wrap(ErrInvalidWithdraw, "lease_ids must name at least one lease")
	}
	if len(ids) > MaxWithdrawLeases {
		return errorsmod.Wrapf(ErrInvalidWithdraw, "lease_ids holds %d leases, at most %d allowed", len(ids), MaxWithdrawLeases)
	}
	seen := make(map[string]int, len(ids))
	for i, id := range ids {
		key, err := id.Key()
		if err != nil {
			return errorsmod.Wrapf(err, "lease_ids[%d]", i)
		}
		canonical := AccountIDFromKey(key).String()
		if j, dup := seen[canonical]; dup {
			return errorsmod.Wrapf(ErrInvalidWithdraw, "lease_ids[%d] %s: duplicate of lease_ids[%d]", i, id, j)
		}
		seen[canonical] = i
	}
	return nil
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
