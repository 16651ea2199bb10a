package types

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/x/internal/text"
)

var (
	_ sdk.HasValidateBasic = (*MsgDeposit)(nil)
	_ sdk.HasValidateBasic = (*MsgWithdraw)(nil)
	_ sdk.HasValidateBasic = (*MsgUpdateParams)(nil)
	_ sdk.HasValidateBasic = (*MsgSpendReserve)(nil)
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
// MaxWithdrawLeasesLimit valid lease ids and no duplicates. Errors name
// the index (lease_ids[3] …). The keeper holds the ids to the
// max_withdraw_leases param, at most that limit.
func (m *MsgWithdraw) ValidateBasic() error {
	if err := validateAddress("provider", m.Provider); err != nil {
		return err
	}
	return ValidateWithdrawIDs(m.LeaseIds)
}

// ValidateWithdrawIDs checks the lease ids of a withdrawal: 1 to
// MaxWithdrawLeasesLimit valid ids, no duplicates.
func ValidateWithdrawIDs(ids []AccountID) error {
	if len(ids) == 0 {
		return errorsmod.Wrap(ErrInvalidWithdraw, "lease_ids must name at least one lease")
	}
	if len(ids) > MaxWithdrawLeasesLimit {
		return errorsmod.Wrapf(ErrInvalidWithdraw, "lease_ids holds %d leases, at most %d allowed", len(ids), MaxWithdrawLeasesLimit)
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

// ValidateBasic checks the message without state: valid authority and
// recipient addresses, a valid, non-empty amount of positive coins and a
// reason of at most MaxReserveReasonLength bytes of free text
// (text.CheckText). The handler checks the
// authority, that the recipient may receive coins and the reserve's
// balance.
func (m *MsgSpendReserve) ValidateBasic() error {
	if err := validateAddress("authority", m.Authority); err != nil {
		return err
	}
	if err := validateAddress("recipient", m.Recipient); err != nil {
		return err
	}
	if m.Amount.Empty() {
		return errorsmod.Wrap(ErrInvalidAmount, "amount must name at least one coin")
	}
	for i, c := range m.Amount {
		if c.Amount.IsNil() {
			return errorsmod.Wrapf(ErrInvalidAmount, "amount[%d] (denom %q) has no amount", i, c.Denom)
		}
	}
	if err := m.Amount.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidAmount, "amount %q: %s", m.Amount.String(), err)
	}
	if len(m.Reason) > MaxReserveReasonLength {
		return errorsmod.Wrapf(ErrInvalidSpend, "reason is %d bytes, at most %d allowed", len(m.Reason), MaxReserveReasonLength)
	}
	if err := text.CheckText(m.Reason); err != nil { // shown by explorers from the event
		return errorsmod.Wrapf(ErrInvalidSpend, "reason %s: %s", text.Quote(m.Reason), err)
	}
	return nil
}
