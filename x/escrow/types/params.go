package types

// DefaultParams returns the default parameters of x/escrow.
func DefaultParams() Params {
	return Params{}
}

// Validate checks every parameter and names the first invalid one.
func (p Params) Validate() error {
	return nil
}
