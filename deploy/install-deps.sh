#!/usr/bin/env bash
# Installs the Debian packages ketenhub builds, tests and runs with, when any
# is missing. Idempotent: with everything present it only checks and exits.
set -euo pipefail

packages=(
  build-essential cmake pkg-config      # the C toolchain
  librdkafka-dev                        # Kafka client
  libjansson-dev                        # JSON
  libavro-dev                           # Avro generic values and binary encoding
  libcurl4-openssl-dev                  # outbound HTTP (push)
  libmicrohttpd-dev                     # inbound HTTP (ingest, /metrics)
  libgnutls28-dev                       # TLS of ingest's API, terminated by its framing guard
  uuid-dev                              # UUIDs: v4 event ids, v5 melding ids, parsing
  libssl-dev                            # HMAC-SHA256, SHA-256, base64
  openssl                               # test certificates for the TLS tests
  curl                                  # the demo instructions and benchmark scripts
  check libsubunit-dev                  # unit tests
  clang libclang-rt-14-dev              # libFuzzer for the fuzz target
  clang-format                          # the house layout (.clang-format, tests/check-format.sh)
  wrk                                   # load generator for the benchmarks
  chromium                              # the watch page's browser test (headless)
  jq                                    # tests/cluster: reading JSON lines of the receiver
  python3-venv                          # tests/cluster/test_deploy_files.sh's validators (PyPI, in a venv)
  systemd                               # systemd-analyze verify of deploy/systemd
)
# Java and Maven only run Apache Kafka in tests; a JDK installed outside
# dpkg (as on the development machines) is used as it is.
command -v java >/dev/null || packages+=(default-jre-headless)
command -v mvn >/dev/null || packages+=(maven)
# Node.js and npm only drive chromium in the watch's browser test
# (playwright-core, installed by tests/watch/browser/run.sh); one installed
# outside dpkg is used as it is.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
# deploy/kafka/KhAcls.java (ACLs for the TLS + SCRAM test) runs from source.
command -v javac >/dev/null || packages+=(default-jdk-headless)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
