# Shared by the tests in tests/cluster/: ports, waiting, the demo events.
# Sourced; expects $root and $bin.

# A free TCP port on 127.0.0.1 (the kernel's choice; bound and released).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for <seconds> <command...>: until the command succeeds; 1 on timeout.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# The demo events (deploy/demo/README.md) with the API key of their sender:
# "key path file" per line.
demo_events() {
    local ex=$root/schemas/examples
    cat <<EOL
demo-12ab00-61d2f8ce aanmeldingen $ex/aanmelding/valid/01-geplaatst-rotterdam.json
demo-gm0599-4f7c2a91 beschikkingen $ex/beschikking/valid/01-toegekend-rotterdam-ambulant.json
demo-po2801-9a0c5e36 tlvs $ex/tlv/valid/02-afgegeven-sbo-rotterdam-woont-capelle.json
demo-98070273-e25b4a13 aanmeldingen $ex/aanmelding/valid/04-jeugdhulp-geplaatst-papendrecht-dordrecht.json
EOL
}

# post <port> <key> <path> <file>: prints "<status> <body>"
post() {
    curl -s -m 60 -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' --data-binary "@$4" "http://127.0.0.1:$1/v1/$3"
    printf ' %s\n' "$(cat "$tmp/body")"
}

# The demo subscriptions pointed at a receiver on port $1.
subscriptions_for() {
    sed "s|127.0.0.1:8190|127.0.0.1:$1|g" "$root/deploy/demo/subscriptions.json"
}
