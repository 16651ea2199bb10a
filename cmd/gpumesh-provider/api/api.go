// Package api serves the sidecar's read-only API (proto/gpumesh/sidecar/v1)
// over gRPC and, through grpc-gateway v2, over REST: /v1/status, /v1/gpus,
// /v1/bids, /v1/leases, /v1/leases/{tenant}/{seq}, /v1/challenges. It
// reads the subsystems' snapshots from the board and holds no secrets.
package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/api/sidecarv1"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/listen"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
)

// Info is what the sidecar knows about itself.
type Info struct {
	Version   string
	Commit    string
	ChainID   string
	Provider  string
	NodeID    string
	NVML      string
	Backend   string
	StartedAt time.Time
}

// Server implements sidecarv1.SidecarServer from the board.
type Server struct {
	sidecarv1.UnimplementedSidecarServer
	board       *state.Board
	info        Info
	limits      Limits
	corsOrigins []string
}

// Limits bound what clients may hold on the API's listeners.
type Limits struct {
	// MaxConnections bounds the open connections of each listener.
	MaxConnections int
	// HTTP bounds the REST server's reads, writes and idle connections.
	HTTP listen.HTTPLimits
	// GRPCHandshakeTimeout closes a connection that has not completed
	// the HTTP/2 handshake.
	GRPCHandshakeTimeout time.Duration
	// GRPCMaxConnectionIdle closes (GOAWAY) a connection without calls.
	GRPCMaxConnectionIdle time.Duration
	// GRPCKeepaliveTime and GRPCKeepaliveTimeout: after this long without
	// activity the server pings, and closes the connection when the ping
	// is not answered in time.
	GRPCKeepaliveTime, GRPCKeepaliveTimeout time.Duration
	// GRPCMaxConcurrentStreams bounds the calls in flight per connection.
	GRPCMaxConcurrentStreams uint32
	// GRPCMaxRecvBytes bounds a request message (requests are tiny).
	GRPCMaxRecvBytes int
}

// DefaultLimits are the limits of a read-only API with small requests.
func DefaultLimits() Limits {
	return Limits{MaxConnections: 256, HTTP: listen.DefaultHTTPLimits(), GRPCHandshakeTimeout: 5 * time.Second,
		GRPCMaxConnectionIdle: 5 * time.Minute, GRPCKeepaliveTime: 2 * time.Minute, GRPCKeepaliveTimeout: 20 * time.Second,
		GRPCMaxConcurrentStreams: 64, GRPCMaxRecvBytes: 64 << 10}
}

// New returns a server reading board, with the default limits and no
// CORS origins.
func New(board *state.Board, info Info) *Server {
	return &Server{board: board, info: info, limits: DefaultLimits()}
}

// WithConfig applies the config's connection limit and CORS origins.
func (s *Server) WithConfig(cfg config.API) *Server {
	s.limits.MaxConnections = cfg.MaxConnections
	s.corsOrigins = cfg.CORSOrigins
	return s
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Status implements sidecarv1.SidecarServer.
func (s *Server) Status(context.Context, *sidecarv1.StatusRequest) (*sidecarv1.StatusResponse, error) {
	c := s.board.Chain()
	p := s.board.Provider()
	_, nvmlOK, desc := s.board.GPUs()
	if desc == "" {
		desc = s.info.NVML
	}
	out := &sidecarv1.StatusResponse{
		Version: s.info.Version, Commit: s.info.Commit, ChainId: s.info.ChainID, Provider: s.info.Provider, NodeId: s.info.NodeID,
		Connected: c.Connected, LatestHeight: c.Height, LatestBlockTime: ts(c.BlockTime), ChainError: c.LastError,
		Nvml: desc, NvmlHealthy: nvmlOK, ProverBackend: s.info.Backend, StartedAt: ts(s.info.StartedAt),
		Registered: p.Registered, ProviderActive: p.Active, Jailed: p.Jailed, Reputation: p.Reputation,
		Healthy: metrics.CheckHealth(s.board).OK, ProvisioningProblem: s.board.ProvisioningProblem(),
	}
	for _, g := range s.board.Unbiddable() {
		out.Unbiddable = append(out.Unbiddable, &sidecarv1.UnbiddableGPU{Uuid: g.UUID, Class: g.Class, Reason: g.Reason,
			Detail: g.Detail})
	}
	ab := s.board.AutoBond()
	out.AutoBond = &sidecarv1.AutoBondStatus{Held: ab.Held, Reason: ab.Reason, LastError: ab.LastError}
	return out, nil
}

// GPUs implements sidecarv1.SidecarServer.
func (s *Server) GPUs(context.Context, *sidecarv1.GPUsRequest) (*sidecarv1.GPUsResponse, error) {
	list, _, _ := s.board.GPUs()
	out := &sidecarv1.GPUsResponse{Gpus: make([]*sidecarv1.GPU, 0, len(list))}
	for _, g := range list {
		t := g.Telemetry
		out.Gpus = append(out.Gpus, &sidecarv1.GPU{
			Index: uint32(g.Index), Uuid: g.UUID, Name: g.Name, PciDeviceId: g.PCIDeviceID, Class: g.Class, //nolint:gosec // small index
			VramMib: g.VramMiB, ComputeCapability: g.ComputeCapability, DriverVersion: g.DriverVersion, Mig: g.MIG,
			Healthy: g.Healthy, Health: g.Health, Listed: g.Listed, AllocatedTo: g.AllocatedTo, Verified: g.Verified,
			Telemetry: &sidecarv1.GPUTelemetry{UtilGpuPct: t.UtilGPUPct, UtilMemPct: t.UtilMemPct, FbUsedMib: t.FBUsedMiB,
				FbTotalMib: t.FBTotalMiB, PowerMilliwatts: t.PowerMilliwatts, EnergyMillijoules: t.EnergyMillijoules,
				TempC: t.TempC, SmClockMhz: t.SMClockMHz, MemClockMhz: t.MemClockMHz, EccUncorrected: t.ECCUncorrected},
		})
	}
	return out, nil
}

// Bids implements sidecarv1.SidecarServer.
func (s *Server) Bids(context.Context, *sidecarv1.BidsRequest) (*sidecarv1.BidsResponse, error) {
	list := s.board.Bids()
	out := &sidecarv1.BidsResponse{Bids: make([]*sidecarv1.Bid, 0, len(list))}
	for _, b := range list {
		out.Bids = append(out.Bids, &sidecarv1.Bid{OrderId: b.OrderID, Price: b.Price, Gpus: b.GPUs, State: b.State, CreatedAt: ts(b.CreatedAt)})
	}
	return out, nil
}

func lease(l state.Lease) *sidecarv1.Lease {
	return &sidecarv1.Lease{Id: l.ID, Tenant: l.Tenant, Gpus: l.GPUs, PricePerGpuHour: l.Price, StartedAt: ts(l.StartedAt),
		State: l.State, AccessEndpoint: l.AccessEndpoint, Provisioned: l.Provisioned,
		Usage: &sidecarv1.LeaseUsage{GpuSeconds: l.GPUSeconds, MeanUtilPct: l.MeanUtilPct, EnergyMj: l.EnergyMJ,
			LastReport: ts(l.LastReport)},
		Earned: l.Earned, LastWithdrawal: ts(l.LastWithdrawal)}
}

// Leases implements sidecarv1.SidecarServer.
func (s *Server) Leases(context.Context, *sidecarv1.LeasesRequest) (*sidecarv1.LeasesResponse, error) {
	list := s.board.Leases()
	out := &sidecarv1.LeasesResponse{Leases: make([]*sidecarv1.Lease, 0, len(list))}
	for _, l := range list {
		out.Leases = append(out.Leases, lease(l))
	}
	return out, nil
}

// Lease implements sidecarv1.SidecarServer.
func (s *Server) Lease(_ context.Context, req *sidecarv1.LeaseRequest) (*sidecarv1.LeaseResponse, error) {
	for _, l := range s.board.Leases() {
		if l.Tenant == req.Tenant && l.Seq == req.Seq {
			return &sidecarv1.LeaseResponse{Lease: lease(l)}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "lease %s/%d is not an active lease of this provider", req.Tenant, req.Seq)
}

// Challenges implements sidecarv1.SidecarServer.
func (s *Server) Challenges(context.Context, *sidecarv1.ChallengesRequest) (*sidecarv1.ChallengesResponse, error) {
	list := s.board.Challenges()
	out := &sidecarv1.ChallengesResponse{Challenges: make([]*sidecarv1.Challenge, 0, len(list))}
	for _, c := range list {
		out.Challenges = append(out.Challenges, &sidecarv1.Challenge{Id: c.ID, State: c.State, Gpus: c.GPUs,
			IssuedHeight: c.IssuedHeight, CommitDeadline: c.CommitDeadline, OpenHeight: c.OpenHeight, Outcome: c.Outcome,
			Dispute: c.Dispute, ProveMs: uint64(c.ProveTime.Milliseconds()), CommittedHeight: c.CommittedAt, //nolint:gosec // positive
			RevealedHeight: c.RevealedAt})
	}
	return out, nil
}

// RESTHandler serves the API over REST, calling the server in process.
func (s *Server) RESTHandler(ctx context.Context) (http.Handler, error) {
	mux := runtime.NewServeMux(runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
		MarshalOptions: protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
	}))
	if err := sidecarv1.RegisterSidecarHandlerServer(ctx, mux, s); err != nil {
		return nil, err
	}
	return mux, nil
}

// Serve serves gRPC on grpcAddr and REST on restAddr (either may be empty)
// until ctx is done, then stops both gracefully.
func (s *Server) Serve(ctx context.Context, grpcAddr, restAddr string) error {
	var grpcLn, restLn net.Listener
	if grpcAddr != "" {
		ln, err := listen.Listen("api.grpc_address", grpcAddr, 0)
		if err != nil {
			return err
		}
		grpcLn = ln
	}
	if restAddr != "" {
		ln, err := listen.Listen("api.rest_address", restAddr, 0)
		if err != nil {
			closeListeners(grpcLn)
			return err
		}
		restLn = ln
	}
	return s.serve(ctx, grpcLn, restLn)
}

func closeListeners(lns ...net.Listener) {
	for _, ln := range lns {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// grpcServer builds the gRPC server with the limits and reflection.
func (s *Server) grpcServer() *grpc.Server {
	l := s.limits
	srv := grpc.NewServer(
		// A connection that has not finished its handshake in time is
		// closed: idle half-open connections cannot pile up.
		grpc.ConnectionTimeout(l.GRPCHandshakeTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: l.GRPCMaxConnectionIdle,
			Time: l.GRPCKeepaliveTime, Timeout: l.GRPCKeepaliveTimeout}),
		// Clients may ping at most every 30 s, and only during a call.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 30 * time.Second}),
		grpc.MaxConcurrentStreams(l.GRPCMaxConcurrentStreams),
		grpc.MaxRecvMsgSize(l.GRPCMaxRecvBytes),
	)
	sidecarv1.RegisterSidecarServer(srv, s)
	reflection.Register(srv)
	return srv
}

// serve serves gRPC on grpcLn and REST on restLn (either may be nil) until
// ctx is done, then stops both gracefully. It owns the listeners and
// bounds their open connections.
func (s *Server) serve(ctx context.Context, grpcLn, restLn net.Listener) error {
	if grpcLn != nil {
		grpcLn = listen.Limit(grpcLn, s.limits.MaxConnections)
	}
	if restLn != nil {
		restLn = listen.Limit(restLn, s.limits.MaxConnections)
	}
	g, ctx := errgroup.WithContext(ctx)
	var h http.Handler
	if restLn != nil {
		var err error
		if h, err = s.RESTHandler(ctx); err != nil {
			closeListeners(grpcLn, restLn)
			return err
		}
		h = cors(s.corsOrigins, h)
	}
	if grpcLn != nil {
		srv := s.grpcServer()
		g.Go(func() error {
			// A stop that wins the race against Serve is a clean stop too.
			if err := srv.Serve(grpcLn); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			stopped := make(chan struct{})
			go func() { srv.GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(3 * time.Second):
				srv.Stop()
			}
			return nil
		})
	}
	if restLn != nil {
		srv := s.limits.HTTP.Server(h)
		g.Go(func() error {
			if err := srv.Serve(restLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
	}
	return g.Wait()
}
