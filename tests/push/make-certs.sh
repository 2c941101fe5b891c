#!/usr/bin/env bash
# make-certs.sh DIR — a throwaway CA, a server certificate for 127.0.0.1 and
# localhost, and a client certificate (CN=ketenhub-push) in DIR, for the TLS
# test of ketenhub-push. ECDSA P-256, valid two days.
set -euo pipefail
cd "$1"
key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${key[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=ketenhub test CA"
openssl req "${key[@]}" -keyout server.key -out server.csr -subj "/CN=localhost"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
    -extfile server.ext
openssl req "${key[@]}" -keyout client.key -out client.csr -subj "/CN=ketenhub-push"
printf 'extendedKeyUsage=clientAuth\n' >client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 \
    -extfile client.ext
