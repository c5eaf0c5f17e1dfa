#!/usr/bin/env bash
# Makes a federation CA and TLS certificates for nodes, organisations and
# auditors, with the openssl command line only (docs/security.md, "TLS").
#
#   deploy/pki/make-pki.sh DIR ca [NAME]            the federation CA (once)
#   deploy/pki/make-pki.sh DIR node ID [HOST...]    trm://node/ID
#   deploy/pki/make-pki.sh DIR org ID               trm://org/ID
#   deploy/pki/make-pki.sh DIR auditor ID           trm://auditor/ID
#   deploy/pki/make-pki.sh DIR sign org|auditor ID CSR
#                                    signs a request made by its holder
#                                    (trmctl org init): the CA never sees
#                                    the private key
#
# Every certificate's identity is its URI SAN; the federation directory maps
# it to an entry (tls_identity). Node certificates also carry the host names
# and addresses they serve on (default: localhost and 127.0.0.1). Keys are
# ECDSA P-256, written 0600, never overwritten. Validity: CA 10 years, others
# TRM_CERT_DAYS (default 397) days.
set -euo pipefail
umask 077
dir=${1:?usage: make-pki.sh DIR ca|node|org|auditor [ID] [HOST...]}
kind=${2:?usage: make-pki.sh DIR ca|node|org|auditor [ID] [HOST...]}
mkdir -p "$dir"
cd "$dir"
days=${TRM_CERT_DAYS:-397}

newkey() {  # newkey FILE
  if [ -e "$1" ]; then echo "make-pki: $1 exists; not overwriting it" >&2; exit 1; fi
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

if [ "$kind" = ca ]; then
  name=${3:-trm federation CA}
  newkey ca.key
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=$name" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt
  chmod 644 ca.crt
  echo "make-pki: CA $(openssl x509 -in ca.crt -noout -subject) -> $dir/ca.crt"
  exit 0
fi

if [ "$kind" = sign ]; then
  what=${3:?usage: make-pki.sh DIR sign org|auditor ID CSR}
  id=${4:?usage: make-pki.sh DIR sign $what ID CSR}
  csr=${5:?usage: make-pki.sh DIR sign $what ID CSR}
  case "$what" in org|auditor) ;; *) echo "make-pki: sign takes org or auditor requests, not '$what'" >&2; exit 2;; esac
  case "$id" in *[!a-z0-9.-]*) echo "make-pki: ID '$id' may hold only a-z, 0-9, '.' and '-'" >&2; exit 2;; esac
  [ -e ca.key ] || { echo "make-pki: no ca.key in $dir; run 'make-pki.sh $dir ca' first" >&2; exit 1; }
  case "$csr" in /*) ;; *) csr="$OLDPWD/$csr";; esac
  openssl req -in "$csr" -noout -verify >/dev/null 2>&1 ||
    { echo "make-pki: $csr is not a certificate request with a valid self-signature" >&2; exit 1; }
  uri="trm://$what/$id"
  # The request must ask for exactly this identity; the certificate gets it
  # whatever else the request asks for.
  asked=$(openssl req -in "$csr" -noout -text | grep -o 'URI:[^, ]*' | sort -u)
  if [ "$asked" != "URI:$uri" ]; then
    echo "make-pki: $csr asks for '${asked:-no URI}', not URI:$uri; was it made with trmctl org init --org $id?" >&2
    exit 1
  fi
  base="$what-$id"
  cat >"$base.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=URI:$uri
EXT
  openssl x509 -req -in "$csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -sha256 -days "$days" -extfile "$base.ext" -out "$base.crt" 2>/dev/null
  rm -f "$base.ext"
  chmod 644 "$base.crt"
  echo "make-pki: signed $csr: $uri -> $dir/$base.crt ($days days)"
  exit 0
fi

id=${3:?usage: make-pki.sh DIR $kind ID}
case "$id" in *[!a-z0-9.-]*) echo "make-pki: ID '$id' may hold only a-z, 0-9, '.' and '-'" >&2; exit 2;; esac
case "$kind" in
  node) uri="trm://node/$id"; shift 3; hosts=("$@"); [ ${#hosts[@]} -gt 0 ] || hosts=(localhost 127.0.0.1);;
  org) uri="trm://org/$id"; hosts=();;
  auditor) uri="trm://auditor/$id"; hosts=();;
  *) echo "make-pki: unknown kind '$kind' (ca, node, org, auditor, sign)" >&2; exit 2;;
esac
[ -e ca.key ] || { echo "make-pki: no ca.key in $dir; run 'make-pki.sh $dir ca' first" >&2; exit 1; }
san="URI:$uri"
for h in "${hosts[@]}"; do
  if [[ "$h" =~ ^[0-9.]+$ || "$h" == *:* ]]; then san="$san,IP:$h"; else san="$san,DNS:$h"; fi
done
base="$kind-$id"
newkey "$base.key"
cat >"$base.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san
EXT
openssl req -new -key "$base.key" -subj "/CN=$kind $id" -out "$base.csr"
openssl x509 -req -in "$base.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
  -sha256 -days "$days" -extfile "$base.ext" -out "$base.crt" 2>/dev/null
rm -f "$base.csr" "$base.ext"
chmod 644 "$base.crt"
echo "make-pki: $uri -> $dir/$base.crt ($san, $days days)"
