package types

import sdk "github.com/cosmos/cosmos-sdk/types"

// NodeRef is a node with its owner, as walked by Keeper.NodesAfter.
type NodeRef struct {
	Owner sdk.AccAddress
	Node  Node
}
