package types

import (
	"fmt"
	"strconv"
	"strings"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// AccountKey is the store key of an account: (tenant, seq).
type AccountKey = collections.Pair[sdk.AccAddress, uint64]

// NewAccountID builds an id.
func NewAccountID(tenant sdk.AccAddress, seq uint64) AccountID {
	return AccountID{Tenant: tenant.String(), Seq: seq}
}

// String writes the id as tenant/seq (mesh1…/7), like the order id.
func (id AccountID) String() string { return fmt.Sprintf("%s/%d", id.Tenant, id.Seq) }

// Key returns the store key of the id, checking the tenant address and
// that seq is at least 1.
func (id AccountID) Key() (AccountKey, error) {
	tenant, err := sdk.AccAddressFromBech32(id.Tenant)
	if err != nil {
		return AccountKey{}, errorsmod.Wrapf(ErrInvalidAccountID, "tenant %q: %s", id.Tenant, err)
	}
	if id.Seq == 0 {
		return AccountKey{}, errorsmod.Wrapf(ErrInvalidAccountID, "seq must be at least 1, got 0 (id %s)", id)
	}
	return collections.Join(tenant, id.Seq), nil
}

// AccountIDFromKey is the inverse of AccountID.Key.
func AccountIDFromKey(k AccountKey) AccountID { return NewAccountID(k.K1(), k.K2()) }

// Validate checks that the tenant is an address and seq is at least 1.
func (id AccountID) Validate() error {
	_, err := id.Key()
	return err
}

// ParseAccountID reads an id written tenant/seq (mesh1…/7), as the CLI
// takes it. Errors quote the argument.
func ParseAccountID(s string) (AccountID, error) {
	tenant, seqStr, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return AccountID{}, errorsmod.Wrapf(ErrInvalidAccountID, "%q: want <tenant>/<seq>, e.g. mesh1…/7", s)
	}
	seq, err := strconv.ParseUint(seqStr, 10, 64)
	if err != nil {
		return AccountID{}, errorsmod.Wrapf(ErrInvalidAccountID, "%q: seq %q is not a number", s, seqStr)
	}
	id := AccountID{Tenant: tenant, Seq: seq}
	if err := id.Validate(); err != nil {
		return AccountID{}, errorsmod.Wrapf(err, "%q", s)
	}
	return id, nil
}
