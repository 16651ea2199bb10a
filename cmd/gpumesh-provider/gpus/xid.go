package gpus

import (
	"context"
	"fmt"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// xidWaitMs is how long one EventSetWait blocks; ctx and Close are
// checked between waits.
const xidWaitMs = 1000

// WatchXid records critical Xid errors delivered through an NVML event set
// until ctx is done or the Source is closed. Devices that do not support
// the event (or cannot be read) are skipped; when event sets are
// unsupported or no device could be registered it returns nil at once,
// logging nothing (the caller logs). Failed waits are retried after a
// second, never in a busy loop.
func (s *Source) WatchXid(ctx context.Context) error {
	set, devs, err := s.registerXid()
	if err != nil || set == nil {
		return err
	}
	defer s.watchers.Done()
	defer func() {
		s.mu.Lock()
		_ = set.Free()
		s.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return nil
		default:
		}
		data, ret := set.Wait(xidWaitMs)
		switch ret {
		case nvml.SUCCESS:
			if data.EventType&nvml.EventTypeXidCriticalError != 0 && data.Device != nil {
				s.RecordXid(s.eventUUID(data.Device, devs), data.EventData)
			}
		case nvml.ERROR_TIMEOUT:
		default:
			select {
			case <-ctx.Done():
				return nil
			case <-s.done:
				return nil
			case <-time.After(time.Second):
			}
		}
	}
}

// registerXid creates the event set and registers every device for Xid
// events. A nil set with a nil error means there is nothing to watch. On
// success the caller owns the set and one count of s.watchers.
func (s *Source) registerXid() (nvml.EventSet, []nvml.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.count()
	if err != nil {
		return nil, nil, err
	}
	set, ret := s.lib.EventSetCreate()
	switch ret {
	case nvml.SUCCESS:
	case nvml.ERROR_NOT_SUPPORTED:
		return nil, nil, nil
	default:
		return nil, nil, fmt.Errorf("NVML EventSetCreate: %s", nvml.ErrorString(ret))
	}
	devs := make([]nvml.Device, n) // by index; nil = not registered
	registered := 0
	for i := range n {
		dev, ret := s.lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS || dev.RegisterEvents(nvml.EventTypeXidCriticalError, set) != nvml.SUCCESS {
			continue
		}
		devs[i] = dev
		registered++
		if uuid, ret := dev.GetUUID(); ret == nvml.SUCCESS {
			s.uuids[i] = uuid // a GPU that falls off the bus may not say its UUID later
		}
	}
	if registered == 0 {
		_ = set.Free()
		return nil, nil, nil
	}
	s.watchers.Add(1)
	return set, devs, nil
}

// eventUUID names the GPU of an event: its UUID, or the one read earlier
// for the same handle when the GPU can no longer say it (Xid 79).
func (s *Source) eventUUID(dev nvml.Device, devs []nvml.Device) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ""
	}
	if uuid, ret := dev.GetUUID(); ret == nvml.SUCCESS && uuid != "" {
		return uuid
	}
	for i, d := range devs {
		if d != nil && sameDevice(d, dev) {
			return s.uuids[i]
		}
	}
	return ""
}

// sameDevice compares two handles; handles of a type that cannot be
// compared are never the same.
func sameDevice(a, b nvml.Device) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}
