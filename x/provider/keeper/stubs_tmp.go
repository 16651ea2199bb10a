package keeper

import (
	"context"
	"fmt"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

// Temporary stubs while x/provider is written.
func (s msgServer) RegisterProvider(context.Context, *types.MsgRegisterProvider) (*types.MsgRegisterProviderResponse, error) {
	return nil, fmt.Errorf("not implemented")
}
func (s msgServer) UpdateProvider(context.Context, *types.MsgUpdateProvider) (*types.MsgUpdateProviderResponse, error) {
	return nil, fmt.Errorf("not implemented")
}
func (s msgServer) SetInventory(context.Context, *types.MsgSetInventory) (*types.MsgSetInventoryResponse, error) {
	return nil, fmt.Errorf("not implemented")
}
func (s msgServer) DeregisterProvider(context.Context, *types.MsgDeregisterProvider) (*types.MsgDeregisterProviderResponse, error) {
	return nil, fmt.Errorf("not implemented")
}
func (q queryServer) Providers(context.Context, *types.QueryProvidersRequest) (*types.QueryProvidersResponse, error) {
	return nil, fmt.Errorf("not implemented")
}
func (q queryServer) Provider(context.Context, *types.QueryProviderRequest) (*types.QueryProviderResponse, error) {
	return nil, fmt.Errorf("not implemented")
}
func (q queryServer) Inventory(context.Context, *types.QueryInventoryRequest) (*types.QueryInventoryResponse, error) {
	return nil, fmt.Errorf("not implemented")
}
func (q queryServer) GPU(context.Context, *types.QueryGPURequest) (*types.QueryGPUResponse, error) {
	return nil, fmt.Errorf("not implemented")
}
func (q queryServer) Supply(context.Context, *types.QuerySupplyRequest) (*types.QuerySupplyResponse, error) {
	return nil, fmt.Errorf("not implemented")
}
