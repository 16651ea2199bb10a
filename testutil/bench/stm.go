package bench

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/cosmos/cosmos-sdk/telemetry/registry"
)

// The SDK's Block-STM executor counts every execution of a transaction,
// re-executions included, on an OpenTelemetry counter ("executed.txs") once
// its instrument is started. A manual reader lets the benchmark read that
// counter between blocks: executions ÷ transactions is the re-execution
// ratio (1.0 means no transaction ran twice).
var stmMetrics struct {
	once   sync.Once
	reader *sdkmetric.ManualReader
	err    error
}

// startSTMMetrics installs the meter provider and starts the SDK's
// "blockstm" instrument, once per process.
func startSTMMetrics() error {
	stmMetrics.once.Do(func() {
		stmMetrics.reader = sdkmetric.NewManualReader()
		otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(stmMetrics.reader)))
		inst := registry.Get("blockstm")
		if inst == nil {
			stmMetrics.err = fmt.Errorf("the SDK's blockstm instrument is not registered")
			return
		}
		stmMetrics.err = inst.Start(nil)
	})
	return stmMetrics.err
}

// stmExecutions is the number of transaction executions Block-STM has
// counted in this process so far.
func stmExecutions() (int64, error) {
	if err := startSTMMetrics(); err != nil {
		return 0, err
	}
	var rm metricdata.ResourceMetrics
	if err := stmMetrics.reader.Collect(context.Background(), &rm); err != nil {
		return 0, err
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "executed.txs" {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				return 0, fmt.Errorf("executed.txs is a %T, not an int64 sum", m.Data)
			}
			for _, dp := range sum.DataPoints {
				total += dp.Value
			}
		}
	}
	return total, nil
}
