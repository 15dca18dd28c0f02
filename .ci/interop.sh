#!/usr/bin/env bash
# Interoperability with the Python AWS Encryption SDK, both ways:
#   1. esdk encrypts the project's encrypt manifest (test-vectors/manifests/esdk-interop-encrypt.json)
#   2. esdk decrypts what it wrote (round trip through files)
#   3. the Python SDK decrypts what esdk wrote (test-vectors/python/decrypt_manifest.py)
#   4. the Python SDK encrypts its matrix (test-vectors/python/encrypt_matrix.py)
#   5. esdk decrypts what the Python SDK wrote
# Each step prints its final `N passed, M failed, K skipped` line; the script fails if any step
# fails. Needs Rust, Python >= 3.11 with venv and pip, and PyPI. Non-interactive.
#
# Environment: PYTHON (default python3); ESDK_INTEROP_VENV (default
# ${TMPDIR:-/tmp}/esdk-interop-venv-<version>, reused when present); ESDK_INTEROP_KEEP=1 keeps
# the output folder (it is always kept when a step fails).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "$0")/.."

# The Python SDK version checked, and its material providers library (the [MPL] extra).
PY_ESDK_VERSION=4.0.7
PY_MPL_VERSION=1.11.3

tmp=${TMPDIR:-/tmp}
python=${PYTHON:-python3}
venv=${ESDK_INTEROP_VENV:-$tmp/esdk-interop-venv-$PY_ESDK_VERSION}
start=$(date +%s)

if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "interop: $python is $("$python" --version 2>&1); the Python SDK's MPL needs Python >= 3.11" >&2
    exit 1
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi
echo "== pip install aws-encryption-sdk[MPL]==$PY_ESDK_VERSION into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "aws-encryption-sdk[MPL]==$PY_ESDK_VERSION" \
    "aws-cryptographic-material-providers==$PY_MPL_VERSION"
vpy="$venv/bin/python"
"$vpy" -c 'import aws_encryption_sdk, sys; print("   Python", sys.version.split()[0], "aws-encryption-sdk", aws_encryption_sdk.__version__)'

echo "== cargo build --release -p esdk-test-vectors"
cargo build --quiet --release -p esdk-test-vectors
bin=target/release/esdk-test-vectors
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    bin=$CARGO_TARGET_DIR/release/esdk-test-vectors
fi

out=$(mktemp -d "$tmp/esdk-interop.XXXXXX")
failed_steps=0
passed_steps=0

# step NAME COMMAND...: runs the command, prints its summary line and time; a non-zero exit
# or a missing summary line fails the step.
step() {
    local name=$1
    shift
    local log t0 rc summary
    log="$out/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-').log"
    t0=$(date +%s)
    rc=0
    "$@" >"$log" 2>&1 || rc=$?
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
    printf '== %-52s %s (%ss)\n' "$name" "${summary:-no summary line}" "$(($(date +%s) - t0))"
    if [ "$rc" -ne 0 ] || [ -z "$summary" ]; then
        failed_steps=$((failed_steps + 1))
        echo "   exit status $rc; FAIL lines and errors (full log: $log):"
        grep -E '^(FAIL|error|Traceback)' "$log" | head -n 40 | sed 's/^/   /' || true
        [ -n "$summary" ] || tail -n 20 "$log" | sed 's/^/   /'
    else
        passed_steps=$((passed_steps + 1))
    fi
}

step "esdk encrypt (project manifest)" \
    "$bin" encrypt --manifest test-vectors/manifests/esdk-interop-encrypt.json --output "$out/esdk"
step "esdk decrypt (esdk's messages)" \
    "$bin" decrypt --manifest "$out/esdk"
step "Python SDK decrypt (esdk's messages)" \
    "$vpy" test-vectors/python/decrypt_manifest.py "$out/esdk"
step "Python SDK encrypt (matrix)" \
    "$vpy" test-vectors/python/encrypt_matrix.py --output "$out/python"
step "esdk decrypt (Python SDK's messages)" \
    "$bin" decrypt --manifest "$out/python"

if [ "$failed_steps" -eq 0 ] && [ "${ESDK_INTEROP_KEEP:-0}" != 1 ]; then
    rm -rf "$out"
    echo "== interop total $(($(date +%s) - start))s"
else
    echo "== interop total $(($(date +%s) - start))s; output kept in $out"
fi
echo "interop: $passed_steps passed, $failed_steps failed"
[ "$failed_steps" -eq 0 ]
