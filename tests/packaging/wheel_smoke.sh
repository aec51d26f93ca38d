#!/usr/bin/env bash
# Install smoke test of the built artefacts, as an operator would use them: build the sdist and,
# from it, the wheel (python -m build); install the wheel into a fresh venv outside the checkout;
# then `edge-agent --version`, `install-service --dry-run --root TMP` (and a real one below TMP,
# compared with systemd/), `diag config` and a 2-second `run` on sim://. Prints the venv's size.
# Usage: tests/packaging/wheel_smoke.sh   (PYTHON: an interpreter with `build`, default .venv's)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
work="$(mktemp -d "${TMPDIR:-/tmp}/edge-agent-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT
step() { printf '%-50s' "wheel smoke: $1"; }
fail() { echo "FAILED"; cat "$@" >&2; exit 1; }

step "build sdist and wheel"
"$python" -m build --outdir "$work/dist" "$repo" >"$work/build.log" 2>&1 || fail "$work/build.log"
wheel="$(echo "$work"/dist/*.whl)"
echo "$(basename "$wheel")"

step "install the wheel into a fresh venv"
"$python" -c 'import sys; print(sys._base_executable)' >"$work/base"
"$(cat "$work/base")" -m venv "$work/venv" >"$work/venv.log" 2>&1 || fail "$work/venv.log"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$wheel" >"$work/pip.log" 2>&1 \
  || fail "$work/pip.log"
echo "ok"

cd "$work"  # nothing of the checkout on sys.path from here on
ea="$work/venv/bin/edge-agent"
step "edge-agent --version"
"$ea" --version
step "the package is the installed one"
location="$("$work/venv/bin/python" -c 'import edge_agent; print(edge_agent.__file__)')"
case "$location" in "$work/venv/"*) echo "ok" ;; *) echo "FAILED: $location"; exit 1 ;; esac

step "install-service --dry-run --root TMP"
"$ea" install-service --dry-run --root "$work/root" >"$work/dry.log" 2>&1 || fail "$work/dry.log"
[ ! -e "$work/root" ] || { echo "FAILED: --dry-run wrote $work/root"; exit 1; }
echo "ok ($(wc -l <"$work/dry.log") actions)"

step "install-service --root TMP"
"$ea" install-service --root "$work/root" >"$work/install.log" 2>&1 || fail "$work/install.log"
sed "s#/opt/edge-agent/bin/edge-agent#$work/venv/bin/edge-agent#" "$repo/systemd/edge-agent.service" \
  | cmp - "$work/root/etc/systemd/system/edge-agent.service" || fail "$work/install.log"
cmp "$repo/systemd/edge-agent.sysusers" "$work/root/usr/lib/sysusers.d/edge-agent.conf" \
  || fail "$work/install.log"
echo "ok (unit and sysusers identical to systemd/)"

cat >"$work/config.toml" <<TOML
[gateway]
id = "0016c001ff1e0001"
[concentrator]
url = "sim://"
[concentrator.sim]
devices = 2
uplink_interval_s = 0.5
[mqtt]
server = "tcp://127.0.0.1:9"
[spool]
path = "$work/spool.db"
[status]
socket = "$work/status.sock"
TOML
step "diag config"
"$ea" diag -c "$work/config.toml" config >"$work/diag.log" 2>&1 || fail "$work/diag.log"
echo "ok"

step "run on sim:// for 2 s, then SIGTERM"
status=0
timeout --preserve-status -s TERM 2 "$ea" run -c "$work/config.toml" >"$work/run.log" 2>&1 \
  || status=$?
[ "$status" = 0 ] || { echo "FAILED: exit status $status"; cat "$work/run.log" >&2; exit 1; }
grep -q "concentrator started" "$work/run.log" || fail "$work/run.log"
grep -q "received SIGTERM: stopping" "$work/run.log" || fail "$work/run.log"
echo "ok (concentrator started, clean stop)"

step "installed size of the venv"
du -sh "$work/venv" | cut -f1
