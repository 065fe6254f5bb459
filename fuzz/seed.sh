#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ (ignored by git) with seeds: the configurations of the shared
# corpus (../shared/corpus beside the repository, or $PFLINT_FUZZ_CORPUS) and those in the
# repository (tests/fixtures, examples, Postfix's stock master.cf). Seeds are named
# seed-*: running it again replaces them and keeps what the fuzzers found (hash names).
#
# Formats, as the targets read them (fuzz/src/lib.rs):
#   main_cf_roundtrip    a main.cf
#   master_cf_roundtrip  a master.cf
#   check_pipeline       main.cf, a NUL byte, master.cf (no NUL byte: no master.cf)
#   generate_edit        two bytes choosing the request, then as check_pipeline
#   pem_material         a certificate or key file (made here with openssl, when present)
#   tlsa_zone            published TLSA records: zone-file lines or dig output
set -euo pipefail

fuzz="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$fuzz")"
shared="${PFLINT_FUZZ_CORPUS:-$repo/../shared/corpus}"
out="$fuzz/corpus"
targets=(main_cf_roundtrip master_cf_roundtrip check_pipeline generate_edit pem_material tlsa_zone smtp_reply)
for target in "${targets[@]}"; do
  mkdir -p "$out/$target"
  find "$out/$target" -maxdepth 1 -type f -name 'seed-*' -delete
done

# Configuration directories: name<TAB>path, each with a main.cf, a master.cf or both.
dirs() {
  if [ -d "$shared" ]; then
    for d in "$shared"/*/; do
      printf 'seed-corpus-%s\t%s\n' "$(basename "$d")" "${d%/}"
    done
  else
    echo "seed.sh: no shared corpus at $shared; seeding from the repository only" >&2
  fi
  for d in "$repo"/tests/fixtures/*/*/ "$repo"/examples/*/; do
    local rel="${d#"$repo"/}"
    rel="${rel%/}"
    printf 'seed-%s\t%s\n' "${rel//\//-}" "${d%/}"
  done
}

# The generate_edit requests: first byte = role combination + 11 × profile, second =
# version + 9 × SASL backend (see fuzz_targets/generate_edit.rs). The 11 role combinations
# with profiles, versions and backends spread among them; each set gets three of them in
# turn (an edit is slow, and libFuzzer mutates these two bytes early anyway).
requests=()
for k in $(seq 0 10); do
  requests+=("$(printf '%02x%02x' $((k + 11 * (k % 3))) $((k % 9 + 9 * (k % 3))))")
done

# Seeds are cut at 16 KiB (libFuzzer's length limit is the largest seed's length, and
# small inputs fuzz faster). The two-file seeds leave out comment lines except pflint's
# own (`# pflint: disable=…`), which change nothing for Postfix: most of a real main.cf
# is comments, and those targets are slow.
max=16384
# (awk ends with SIGPIPE, status 141, when head has taken enough.)
strip() {
  {
    LC_ALL=C awk '!/^[[:space:]]*#/ || /^[[:space:]]*#[[:space:]]*pflint:/' "$1" ||
      [ $? -eq 141 ]
  } | head -c "$max"
}

sets=0
while IFS=$'\t' read -r name dir; do
  main="$dir/main.cf"
  master="$dir/master.cf"
  [ -f "$main" ] || [ -f "$master" ] || continue
  [ -f "$main" ] && head -c "$max" "$main" >"$out/main_cf_roundtrip/$name"
  [ -f "$master" ] && head -c "$max" "$master" >"$out/master_cf_roundtrip/$name"
  # A set without main.cf gets an empty one (a master.cf on its own still tells).
  pair="$out/check_pipeline/$name"
  {
    [ -f "$main" ] && strip "$main"
    if [ -f "$master" ]; then
      printf '\0'
      strip "$master"
    fi
  } >"$pair"
  for i in 0 1 2; do
    r="${requests[$(((3 * sets + i) % ${#requests[@]}))]}"
    { printf "\\x${r:0:2}\\x${r:2:2}"; cat "$pair"; } >"$out/generate_edit/$name-$r"
  done
  sets=$((sets + 1))
done < <(dirs)

cp "$repo/data/stock-master.cf" "$out/master_cf_roundtrip/seed-stock-master.cf"

# PEM seeds are made, never committed (no private key in the repository): one file per
# shape Postfix's loader tells apart (key first, certificate first, several algorithms,
# an encrypted key, an EC key with parameters, a bare certificate).
pem="$out/pem_material"
if command -v openssl >/dev/null 2>&1; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (
    cd "$work"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt -days 30 \
      -subj /CN=mx.example.org 2>/dev/null
    openssl ecparam -name prime256v1 -genkey -out ec.key 2>/dev/null
    openssl req -x509 -key ec.key -out ec.crt -days 30 -subj /CN=mx.example.org 2>/dev/null
    openssl genpkey -algorithm ed25519 -out ed.key 2>/dev/null
    openssl req -x509 -key ed.key -out ed.crt -days 30 -subj /CN=mx.example.org 2>/dev/null
    openssl pkey -in rsa.key -aes256 -passout pass:x -out rsa-encrypted.key 2>/dev/null
  )
  cat "$work/rsa.key" "$work/rsa.crt" >"$pem/seed-rsa-chain"
  cat "$work/rsa.crt" "$work/rsa.key" >"$pem/seed-rsa-cert-first"
  cat "$work/rsa.key" "$work/rsa.crt" "$work/ec.key" "$work/ec.crt" "$work/ed.key" \
    "$work/ed.crt" >"$pem/seed-three-algorithms"
  cat "$work/rsa-encrypted.key" "$work/rsa.crt" >"$pem/seed-encrypted"
  cp "$work/ec.key" "$pem/seed-ec-with-parameters"
  cp "$work/rsa.crt" "$pem/seed-certificate"
else
  echo "seed.sh: no openssl; pem_material starts from an empty corpus" >&2
fi

# Published records in each shape the reader takes.
tlsa="$out/tlsa_zone"
digest=8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1
cat >"$tlsa/seed-zone" <<ZONE
\$ORIGIN example.org.
\$TTL 1h
_25._tcp.mail IN TLSA 3 1 1 $digest
_25._tcp.mail.example.org. 300 IN TLSA ( 2 1 1
    ${digest:0:32}
    ${digest:32} ) ; issuer
_25._tcp.mail IN TYPE52 \\# 35 030101$digest
ZONE
cat >"$tlsa/seed-dig" <<DIG
; <<>> DiG 9.18 <<>> tlsa _25._tcp.mail.example.org
;; ANSWER SECTION:
_25._tcp.mail.example.org. 3600	IN	TLSA	3 1 1 ${digest^^}
DIG
printf '3 1 1 %s\n3 0 1 %s\n' "$digest" "$digest" >"$tlsa/seed-short"

# smtp_reply: what servers send, a greeting and EHLO replies as Postfix writes them.
smtp="$out/smtp_reply"
printf '220 mx.example.org ESMTP Postfix\r\n250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n' >"$smtp/seed-postfix"
printf '220-first\r\n220 second\r\n250 ok\r\n221 2.0.0 Bye\r\n' >"$smtp/seed-multiline"
printf '554 5.7.1 no\r\n' >"$smtp/seed-refused"

for target in "${targets[@]}"; do
  echo "seed.sh: $target: $(find "$out/$target" -type f | wc -l) files in fuzz/corpus/$target"
done
echo "seed.sh: seeded from $sets configuration directories"
