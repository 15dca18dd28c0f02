#!/usr/bin/env bash
# Builds every fuzz target and runs each for N seconds (first argument, else $FUZZ_SECONDS,
# else 60), starting from the seed corpus in corpus/<target>. Fails if any target crashes,
# leaks, times out, or allocates more than the limits below. Prints each target's final
# execution count.
#
#   fuzz/ci.sh            # 60 s per target
#   fuzz/ci.sh 600        # 10 min per target
#
# Needs only the stable toolchain: RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the sanitizer flags.
set -euo pipefail
seconds="${1:-${FUZZ_SECONDS:-60}}"
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

targets=$(cargo fuzz list)
cargo fuzz build
# Any input over 10 s, any single allocation over 64 MiB or 2 GiB resident is a failure: the
# inputs are a few KiB, so these only trip on a hang or an allocation the input merely declared.
limits=(-max_total_time="$seconds" -timeout=10 -malloc_limit_mb=64 -rss_limit_mb=2048 -print_final_stats=1)

failed=()
for target in $targets; do
    mkdir -p "work/$target" "corpus/$target"
    log="work/$target.log"
    echo "== $target: ${seconds}s"
    # New inputs go to work/<target> (not committed); corpus/<target> holds the seeds.
    if cargo fuzz run "$target" "work/$target" "corpus/$target" -- "${limits[@]}" >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$target")
        tail -n 60 "$log"
        ls artifacts/"$target" 2>/dev/null | sed "s|^|   artifact: fuzz/artifacts/$target/|"
    fi
    execs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || true)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    echo "   $target: $status; ${execs:-no final line}; last: ${last:-none}"
done

if ((${#failed[@]})); then
    echo "fuzzing failed: ${failed[*]}"
    exit 1
fi
echo "fuzzing: all targets ok"
