package types

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
)

var (
	_ sdk.HasValidateBasic = (*MsgBond)(nil)
	_ sdk.HasValidateBasic = (*MsgUnbond)(nil)
	_ sdk.HasValidateBasic = (*MsgUnjail)(nil)
	_ sdk.HasValidateBasic = (*MsgUpdateParams)(nil)
)

func validateAddress(field, addr string) error {
	if _, err := sdk.AccAddressFromBech32(addr); err != nil {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "%s %q: %s", field, addr, err)
	}
	return nil
}

// validatePositiveCoin checks that a coin is well formed and positive. The
// denom is checked against the bond_denom param by the handler.
func validatePositiveCoin(field string, c sdk.Coin) error {
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

// ValidateBasic checks the message without state: a valid provider address
// and a valid, positive amount.
func (m *MsgBond) ValidateBasic() error {
	if err := validateAddress("provider", m.Provider); err != nil {
		return err
	}
	return validatePositiveCoin("amount", m.Amount)
}

// ValidateBasic checks the message without state: a valid provider address
// and a valid, positive amount.
func (m *MsgUnbond) ValidateBasic() error {
	if err := validateAddress("provider", m.Provider); err != nil {
		return err
	}
	return validatePositiveCoin("amount", m.Amount)
}

// ValidateBasic checks the message without state: a valid provider address.
func (m *MsgUnjail) ValidateBasic() error {
	return validateAddress("provider", m.Provider)
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
