#!/usr/bin/env bash
# Protobuf code generation and lint for proto/.
#
#   scripts/protocgen.sh gen    regenerate the committed *.pb.go / *.pb.gw.go
#   scripts/protocgen.sh lint   buf lint our protos
#   scripts/protocgen.sh openapi  regenerate docs/openapi.yaml (the chain
#                                 modules' REST routes; scripts/openapi merges)
#
# Third-party protos come from the Go module cache at the versions go.mod
# pins (no Buf Schema Registry): they are symlinked into .protodeps/, which
# buf.yaml lists as workspace modules. The tools are expected on PATH;
# `make proto-gen` / `make proto-lint` install them into build/tools first.
set -euo pipefail

cd "$(dirname "$0")/.."

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "protocgen: $tool not on PATH (use make proto-gen)" >&2; exit 1; }
  done
}

link_deps() {
  local deps=(github.com/cosmos/cosmos-sdk github.com/cosmos/gogoproto github.com/cosmos/cosmos-proto
    github.com/grpc-ecosystem/grpc-gateway)
  go mod download "${deps[@]}"
  moddir() { go list -m -f '{{.Dir}}' "$1"; }
  rm -rf .protodeps
  mkdir -p .protodeps/gogoproto
  ln -s "$(moddir github.com/cosmos/cosmos-sdk)/proto" .protodeps/cosmos-sdk
  ln -s "$(moddir github.com/cosmos/gogoproto)/gogoproto" .protodeps/gogoproto/gogoproto
  ln -s "$(moddir github.com/cosmos/cosmos-proto)/proto" .protodeps/cosmos-proto
  ln -s "$(moddir github.com/grpc-ecosystem/grpc-gateway)/third_party/googleapis" .protodeps/googleapis
}

gen() {
  need buf protoc-gen-gocosmos protoc-gen-grpc-gateway protoc-gen-go protoc-gen-go-grpc protoc-gen-grpc-gateway-v2
  link_deps
  rm -rf .protogen
  # The chain modules: gogoproto. Generate only our files; their imports
  # resolve through the workspace.
  buf generate --template buf.gen.yaml --path proto/gpumesh --exclude-path proto/gpumesh/sidecar
  # The sidecar's API: standard Go protobuf, gRPC and grpc-gateway v2.
  buf generate --template buf.gen.sidecar.yaml --path proto/gpumesh/sidecar
  # Replace the previous output, so a removed proto file also removes its code.
  find x -path '*/types/*' \( -name '*.pb.go' -o -name '*.pb.gw.go' \) -delete
  find cmd/gpumesh-provider/api \( -name '*.pb.go' -o -name '*.pb.gw.go' \) -delete
  cp -r .protogen/github.com/gpumesh/gpumesh/. .
  rm -rf .protogen
  echo "protocgen: generated $(find x cmd \( -name '*.pb.go' -o -name '*.pb.gw.go' \) | wc -l) files"
}

lint() {
  need buf
  link_deps
  buf lint --path proto/gpumesh
  echo "protocgen: buf lint clean"
}

openapi() {
  need buf protoc-gen-openapiv2
  link_deps
  local out=.protogen/openapi
  rm -rf "$out"
  # The chain modules only: the sidecar's API is served by gpumesh-provider.
  # protoc-gen-openapiv2 writes one *.swagger.json per proto file.
  buf generate --template buf.gen.openapi.yaml --path proto/gpumesh --exclude-path proto/gpumesh/sidecar
  go run ./scripts/openapi -in "$out" -out docs/openapi.yaml
  rm -rf .protogen
}

case ${1:-gen} in
  gen) gen ;;
  lint) lint ;;
  openapi) openapi ;;
  *) echo "usage: $0 gen|lint|openapi" >&2; exit 2 ;;
esac
