package cli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// report-usage's flags become a MsgReportUsage; each bad flag is named
// with its value.
func TestUsageMsgFromFlags(t *testing.T) {
	tenant := sdk.AccAddress(make([]byte, 20)).String()
	hash := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	set := func(kv ...string) error {
		cmd := NewReportUsageCmd()
		for i := 0; i < len(kv); i += 2 {
			require.NoError(t, cmd.Flags().Set(kv[i], kv[i+1]))
		}
		_, err := usageMsg(cmd, tenant, tenant+"/3")
		return err
	}
	require.ErrorContains(t, set(FlagPeriodEnd, "yesterday", FlagSamplesHash, hash), `--period-end "yesterday": want RFC 3339`)
	require.ErrorContains(t, set(FlagPeriodEnd, "2026-11-22T12:00:00Z", FlagSamplesHash, "abcd"),
		`--samples-hash "abcd": want 32 bytes, got 2`)

	cmd := NewReportUsageCmd()
	for k, v := range map[string]string{FlagPeriodEnd: "2026-11-22T13:00:00+01:00", FlagSamplesHash: hash,
		FlagGPUSeconds: "7200", FlagUtil: "87", FlagEnergyMJ: "2500"} {
		require.NoError(t, cmd.Flags().Set(k, v))
	}
	msg, err := usageMsg(cmd, tenant, tenant+"/3")
	require.NoError(t, err)
	require.NoError(t, msg.ValidateBasic())
	require.Equal(t, time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), msg.PeriodEnd)
	require.Equal(t, uint64(3), msg.LeaseId.Seq)
	require.Equal(t, uint64(7200), msg.GpuSeconds)
	require.Equal(t, uint32(87), msg.MeanUtilPct)
	require.Equal(t, uint64(2500), msg.EnergyMj)

	_, err = usageMsg(cmd, tenant, "not-a-lease")
	require.ErrorContains(t, err, "not-a-lease")
}
