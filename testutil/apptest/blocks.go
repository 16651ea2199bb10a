package apptest

import (
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"
)

// NextBlockWithHash is NextBlock with a header hash of the caller's choice
// instead of BlockHash(height): a test plays a block proposer, who decides
// its block's contents and so, within a round, its hash.
func (a *App) NextBlockWithHash(hash []byte, txs ...[]byte) *abci.ResponseFinalizeBlock {
	a.t.Helper()
	a.BlockTime = a.BlockTime.Add(BlockInterval)
	res, err := a.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height:             a.LastBlockHeight() + 1,
		Hash:               hash,
		Time:               a.BlockTime,
		Txs:                txs,
		NextValidatorsHash: a.valSet.Hash(),
		ProposerAddress:    a.valSet.Proposer.Address,
	})
	require.NoError(a.t, err)
	_, err = a.Commit()
	require.NoError(a.t, err)
	return res
}
