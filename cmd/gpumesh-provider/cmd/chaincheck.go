package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
)

// checkChainID asks the node for its latest block, whose header names
// the chain: a node on another chain gives an error wrapping
// chain.ErrWrongChain that names both ids (waiting does not help); a node
// that does not answer gives its error.
func checkChainID(ctx context.Context, c *chain.Client) error {
	_, err := c.Latest(ctx)
	return err
}

// checkNode is the one-shot check of commands that talk to the chain
// once (register): the node answers, on the configured chain.
func checkNode(ctx context.Context, c *chain.Client, grpcAddr string) error {
	qctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := checkChainID(qctx, c); err != nil {
		if errors.Is(err, chain.ErrWrongChain) {
			return err
		}
		return fmt.Errorf("node at chain.grpc %q does not answer: %w", grpcAddr, err)
	}
	return nil
}
