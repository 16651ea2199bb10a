package types

import (
	"fmt"
	"strconv"
	"strings"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// OrderKey is the store key of an order, a lease and its escrow account:
// (tenant, seq).
type OrderKey = collections.Pair[sdk.AccAddress, uint64]

// BidKey is the store key of a bid: (tenant, seq, provider).
type BidKey = collections.Triple[sdk.AccAddress, uint64, sdk.AccAddress]

// TimeKey orders an id in a time queue: (unix seconds, tenant, seq).
type TimeKey = collections.Triple[int64, sdk.AccAddress, uint64]

// NewOrderID builds an id.
func NewOrderID(tenant sdk.AccAddress, seq uint64) OrderID {
	return OrderID{Tenant: tenant.String(), Seq: seq}
}

// String writes the id as tenant/seq (mesh1…/7).
func (id OrderID) String() string { return fmt.Sprintf("%s/%d", id.Tenant, id.Seq) }

// Validate checks that the tenant is an address and seq is at least 1.
func (id OrderID) Validate() error {
	if _, err := sdk.AccAddressFromBech32(id.Tenant); err != nil {
		return errorsmod.Wrapf(ErrInvalidID, "tenant %q: %s", id.Tenant, err)
	}
	if id.Seq == 0 {
		return errorsmod.Wrapf(ErrInvalidID, "seq must be at least 1, got 0 (id %s)", id)
	}
	return nil
}

// Key returns the store key of the id. It fails on an invalid tenant.
func (id OrderID) Key() (OrderKey, error) {
	tenant, err := sdk.AccAddressFromBech32(id.Tenant)
	if err != nil {
		return OrderKey{}, errorsmod.Wrapf(ErrInvalidID, "tenant %q: %s", id.Tenant, err)
	}
	return collections.Join(tenant, id.Seq), nil
}

// OrderIDFromKey is the inverse of OrderID.Key.
func OrderIDFromKey(k OrderKey) OrderID { return NewOrderID(k.K1(), k.K2()) }

// ParseOrderID reads an id written tenant/seq, as the CLI takes it.
func ParseOrderID(s string) (OrderID, error) {
	tenant, seqStr, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return OrderID{}, errorsmod.Wrapf(ErrInvalidID, "%q: want <tenant>/<seq>, e.g. mesh1…/7", s)
	}
	seq, err := strconv.ParseUint(seqStr, 10, 64)
	if err != nil {
		return OrderID{}, errorsmod.Wrapf(ErrInvalidID, "%q: seq %q is not a number", s, seqStr)
	}
	id := OrderID{Tenant: tenant, Seq: seq}
	if err := id.Validate(); err != nil {
		return OrderID{}, err
	}
	return id, nil
}
