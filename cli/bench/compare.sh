#!/usr/bin/env bash
# Measures the esdk command-line tool against aws-encryption-cli on one machine, one KMS key:
# a large file (encrypt, decrypt, round trip checked with cmp), a folder of small files with -r
# (without and with --caching), and startup (--version). Prints a Markdown table of medians;
# BENCHMARKS.md, "Command-line tool", has the figures and how they were taken.
#
#   cli/bench/compare.sh ESDK_BINARY KMS_ENDPOINT_URL
#   ESDK=target/release/esdk AWS_ENDPOINT_URL=http://127.0.0.1:5000 cli/bench/compare.sh
#
# The KMS endpoint is a local KMS-compatible server (moto: `moto_server -H 127.0.0.1 -p PORT`);
# the script makes one symmetric key there with boto3 unless KEY_ARN is set. It sends nothing
# anywhere else. Settings (environment, defaults in brackets):
#   AWS_CLI     aws-encryption-cli [/tmp/esdk-awscli-venv-4.3.0/bin/aws-encryption-cli]
#   KMS_PYTHON  a python with boto3, to make the key [/tmp/esdk-kms-venv-moto-5.2.5/bin/python]
#   KEY_ARN     the KMS key to use [a new key on the endpoint]
#   AWS_REGION  [us-west-2]
#   SIZE_MIB    size of the large file [1024]
#   SMALL_FILES number of 1 KiB files in the folder [1000]
#   REPS        runs of each command; the median is reported [3]
#   STARTUP_RUNS runs of each --version under hyperfine, when it is installed [20]
#   SCALING     sizes in MiB (e.g. "1 16 64 256") at which to measure esdk's peak RSS as well []
#   WORK        scratch folder, on a disk with room for 3x the large file [a new folder in /tmp]
#   MOTO_LOG    moto's log file: if set, KMS requests per run are counted from it
#   KEEP=1      keep WORK afterwards
# Needs GNU time (/usr/bin/time), cmp, and hyperfine for the startup row if it is installed
# (otherwise startup is timed with /usr/bin/time too, at its 10 ms resolution).
set -euo pipefail

ESDK=${1:-${ESDK:-}}
ENDPOINT=${2:-${AWS_ENDPOINT_URL:-}}
if [[ -z $ESDK || -z $ENDPOINT ]]; then
    echo "usage: $0 ESDK_BINARY KMS_ENDPOINT_URL   (or ESDK=... AWS_ENDPOINT_URL=... $0)" >&2
    exit 2
fi
ESDK=$(realpath "$ESDK")
AWS_CLI=${AWS_CLI:-/tmp/esdk-awscli-venv-4.3.0/bin/aws-encryption-cli}
KMS_PYTHON=${KMS_PYTHON:-/tmp/esdk-kms-venv-moto-5.2.5/bin/python}
SIZE_MIB=${SIZE_MIB:-1024}
SMALL_FILES=${SMALL_FILES:-1000}
REPS=${REPS:-3}
STARTUP_RUNS=${STARTUP_RUNS:-20}
SCALING=${SCALING:-}
MOTO_LOG=${MOTO_LOG:-}
TIME=/usr/bin/time

for tool in "$ESDK" "$AWS_CLI" "$TIME"; do
    [[ -x $tool ]] || { echo "$0: $tool is not an executable" >&2; exit 2; }
done

export AWS_ENDPOINT_URL=$ENDPOINT
export AWS_REGION=${AWS_REGION:-us-west-2}
export AWS_DEFAULT_REGION=$AWS_REGION
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/nonexistent/esdk-bench AWS_SHARED_CREDENTIALS_FILE=/nonexistent/esdk-bench
unset AWS_PROFILE AWS_SESSION_TOKEN

if [[ -z ${KEY_ARN:-} ]]; then
    KEY_ARN=$("$KMS_PYTHON" -c '
import sys, boto3
kms = boto3.client("kms", endpoint_url=sys.argv[1], region_name=sys.argv[2],
                   aws_access_key_id="testing", aws_secret_access_key="testing")
print(kms.create_key()["KeyMetadata"]["Arn"])' "$ENDPOINT" "$AWS_REGION")
fi

if [[ -z ${WORK:-} ]]; then
    WORK=$(mktemp -d /tmp/esdk-cli-bench.XXXXXX)
else
    mkdir -p "$WORK"
fi
cleanup() { [[ ${KEEP:-0} == 1 ]] || rm -rf "$WORK"; }
trap cleanup EXIT

log() { echo "# $*" >&2; }

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

moto_lines() { if [[ -n $MOTO_LOG ]]; then grep -c "\"POST " "$MOTO_LOG"; else echo 0; fi; }

ROWS=()
# measure LABEL PREPARE_CMD -- COMMAND...: runs PREPARE_CMD (untimed: removes the outputs) then
# COMMAND, REPS times, under /usr/bin/time; records the medians of wall time and peak RSS.
measure() {
    local label=$1 prepare=$2
    shift 3
    local walls=() rsss=() kms=() i before out
    for ((i = 1; i <= REPS; i++)); do
        eval "$prepare"
        before=$(moto_lines)
        if ! "$TIME" -f 'TIME %e %M' "$@" > /dev/null 2> "$WORK/stderr"; then
            echo "$0: failed: $*" >&2
            cat "$WORK/stderr" >&2
            exit 1
        fi
        out=$(grep '^TIME ' "$WORK/stderr" | tail -1)
        walls+=("$(awk '{ print $2 }' <<< "$out")")
        rsss+=("$(awk '{ print $3 }' <<< "$out")")
        kms+=("$(( $(moto_lines) - before ))")
        log "$label run $i: ${walls[-1]} s, ${rsss[-1]} KB, load $(cut -d' ' -f1 /proc/loadavg)"
    done
    local wall rss calls=""
    wall=$(printf '%s\n' "${walls[@]}" | median)
    rss=$(printf '%s\n' "${rsss[@]}" | median)
    [[ -n $MOTO_LOG ]] && calls=" | $(printf '%s\n' "${kms[@]}" | median)"
    local shown=$*
    shown=${shown//"$WORK/"/}
    shown=${shown//"$KEY_ARN"/\$KEY}
    shown=${shown//"$ESDK"/esdk}
    shown=${shown//"$AWS_CLI"/aws-encryption-cli}
    ROWS+=("| $label | \`$shown\` | $wall s ($(IFS=/; echo "${walls[*]}")) | $(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }') MiB$calls |")
}

cd "$WORK"
log "work folder $WORK, key $KEY_ARN, load $(cut -d' ' -f1-3 /proc/loadavg)"
log "making a $SIZE_MIB MiB file of random bytes and $SMALL_FILES files of 1 KiB"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom > big.bin
mkdir -p small
for ((i = 0; i < SMALL_FILES; i++)); do head -c 1024 /dev/urandom > "small/f$(printf %05d $i).bin"; done

# Checks every file of a decrypted folder against the original.
check_folder() {
    local out=$1 suffix=$2 n=0 f
    for f in small/*; do
        cmp -s "$f" "$out/$(basename "$f")$suffix" || { echo "$0: $out: $f differs" >&2; exit 1; }
        n=$((n + 1))
    done
    log "$out: $n files match"
}

W=(-w "key=$KEY_ARN")
for tool in esdk aws-encryption-cli; do
    if [[ $tool == esdk ]]; then bin=$ESDK; else bin=$AWS_CLI; fi
    t=${tool%%-*}
    # 1. The large file.
    measure "$SIZE_MIB MiB encrypt, $tool" "rm -f $t.big.enc" -- \
        "$bin" -e -i big.bin -o "$t.big.enc" "${W[@]}" -S
    measure "$SIZE_MIB MiB decrypt, $tool" "rm -f $t.big.dec" -- \
        "$bin" -d -i "$t.big.enc" -o "$t.big.dec" "${W[@]}" -S
    cmp big.bin "$t.big.dec"
    log "$tool: $SIZE_MIB MiB round trip matches (cmp)"
    rm -f "$t.big.enc" "$t.big.dec"

    # 2. The folder of small files, one invocation each way, then with the cache (the
    # decryption reads the folder encrypted with the cache: its messages share one data key).
    for cache in no yes; do
        c=() s=""
        [[ $cache == yes ]] && c=(--caching capacity=10 max_age=60) s=" --caching"
        measure "$SMALL_FILES x 1 KiB -r encrypt$s, $tool" \
            "rm -rf $t.enc.$cache && mkdir $t.enc.$cache" -- \
            "$bin" -e -r -i small -o "$t.enc.$cache" "${W[@]}" -S "${c[@]}"
        measure "$SMALL_FILES x 1 KiB -r decrypt$s, $tool" \
            "rm -rf $t.dec.$cache && mkdir $t.dec.$cache" -- \
            "$bin" -d -r -i "$t.enc.$cache" -o "$t.dec.$cache" "${W[@]}" -S "${c[@]}"
        check_folder "$t.dec.$cache" .encrypted.decrypted
        rm -rf "$t.enc.$cache" "$t.dec.$cache"
    done
done

# Optional: esdk's peak RSS by input size.
for mib in $SCALING; do
    head -c $((mib * 1024 * 1024)) big.bin > scale.bin
    measure "$mib MiB encrypt, esdk" "rm -f scale.enc" -- \
        "$ESDK" -e -i scale.bin -o scale.enc "${W[@]}" -S
    measure "$mib MiB decrypt, esdk" "rm -f scale.dec" -- \
        "$ESDK" -d -i scale.enc -o scale.dec "${W[@]}" -S
    cmp scale.bin scale.dec
    rm -f scale.bin scale.enc scale.dec
done

# 3. Startup.
STARTUP=()
if command -v hyperfine > /dev/null; then
    hyperfine -N --warmup 3 --runs "$STARTUP_RUNS" --export-markdown startup.md \
        -n "esdk --version" "$ESDK --version" \
        -n "aws-encryption-cli --version" "$AWS_CLI --version" >&2
    mapfile -t STARTUP < <(tail -n +3 startup.md)
fi
measure "startup, esdk" ":" -- "$ESDK" --version
measure "startup, aws-encryption-cli" ":" -- "$AWS_CLI" --version

echo
echo "esdk: $("$ESDK" --version); aws-encryption-cli: $("$AWS_CLI" --version 2>&1)"
echo "$(nproc) cores; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); median of $REPS runs (each run's wall time in brackets)"
echo
if [[ -n $MOTO_LOG ]]; then
    echo "| case, tool | command | wall | peak RSS | KMS requests |"
    echo "|---|---|---:|---:|---:|"
else
    echo "| case, tool | command | wall | peak RSS |"
    echo "|---|---|---:|---:|"
fi
printf '%s\n' "${ROWS[@]}"
if ((${#STARTUP[@]})); then
    echo
    echo "hyperfine, $STARTUP_RUNS runs after 3 warm-ups:"
    echo
    echo "| command | mean [ms] | min [ms] | max [ms] | relative |"
    echo "|:---|---:|---:|---:|---:|"
    printf '%s\n' "${STARTUP[@]}"
fi
