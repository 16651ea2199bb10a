package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/status"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
)

// errWrongChain marks a node that answered for another chain than the
// config's chain.chain_id: waiting does not help.
var errWrongChain = errors.New("wrong chain")

// checkChainID asks the node for its latest block, whose header names
// the chain. A node that answers with another chain id gives an error
// wrapping errWrongChain that names both ids; a node that does not
// answer gives its gRPC error.
//
// (*chain.Client).Latest compares the ids and reports a mismatch as a
// plain error, while every transport failure is a gRPC status error;
// that is the distinction made here until chain.Client.CheckChainID,
// with a typed error, replaces this function.
func checkChainID(ctx context.Context, c *chain.Client) error {
	_, err := c.Latest(ctx)
	if err == nil {
		return nil
	}
	if _, isStatus := status.FromError(err); isStatus {
		return err
	}
	return fmt.Errorf("%w: %w", errWrongChain, err)
}

// checkNode is the one-shot check of commands that talk to the chain
// once (register): the node answers, on the configured chain.
func checkNode(ctx context.Context, c *chain.Client, grpcAddr string) error {
	qctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := checkChainID(qctx, c); err != nil {
		if errors.Is(err, errWrongChain) {
			return err
		}
		return fmt.Errorf("node at chain.grpc %q does not answer: %w", grpcAddr, err)
	}
	return nil
}
