package types

import (
	"bytes"
	"fmt"

	"github.com/cosmos/gogoproto/jsonpb"
)

// ParseInventoryJSON reads an inventory file: {"nodes": [...]} with the
// field names of the Node and GPU messages (snake_case). Unknown fields are
// refused so that a typo does not silently drop a value.
func ParseInventoryJSON(bz []byte) (Inventory, error) {
	var inv Inventory
	u := jsonpb.Unmarshaler{AllowUnknownFields: false}
	if err := u.Unmarshal(bytes.NewReader(bz), &inv); err != nil {
		return inv, fmt.Errorf("inventory JSON: %w", err)
	}
	return inv, nil
}

// MarshalInventoryJSON writes an inventory in the form ParseInventoryJSON
// reads, indented, with snake_case names and zero values included.
func MarshalInventoryJSON(inv Inventory) ([]byte, error) {
	m := jsonpb.Marshaler{OrigName: true, EmitDefaults: true, Indent: "  "}
	var buf bytes.Buffer
	if err := m.Marshal(&buf, &inv); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// ClassCount is a number of GPUs of one class.
type ClassCount struct {
	Class string
	Count uint64
}
