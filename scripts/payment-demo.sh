#!/usr/bin/env bash
# A signed payment order from scratch against a running Business API (./run.sh): makes a test CA and a
# user certificate with the NCA RK subject layout (SERIALNUMBER=IIN…, OU=BIN…), publishes the CA and
# its CRL through the operations API, onboards a customer (account, money, signer, API credentials,
# software session), signs a payment order with `openssl cms -sign` and submits it, then prints the
# document's path to `executed`. Starts nothing itself.
#
#   scripts/payment-demo.sh [--two-signatures] [API base URL, default http://127.0.0.1:7071]
#
# With --two-signatures the account gets a specimen card "first+second": the director's signed order is the
# first signature, a chief accountant signs the second (detached, over GET /documents/{id}/content), and the
# archive returns one CMS with both SignerInfos, which openssl verifies.
#
# Needs bash, curl, openssl and node. The operator key comes from OPS_KEY, else from local.settings.json.
# Outside the bank's operational hours the document waits for the next operational day; the script
# then says so and stops (exit 0) — look again with the printed curl command.
set -euo pipefail

TWO=false
CONVERSION=false
if [[ "${1:-}" == --two-signatures ]]; then TWO=true; shift; fi
if [[ "${1:-}" == --conversion ]]; then CONVERSION=true; shift; fi
API="${1:-${API:-http://127.0.0.1:7071}}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -z "${OPS_KEY:-}" ]]; then
  OPS_KEY=$(node -p "require('$ROOT/local.settings.json').Values['Operations:ApiKeys'].split(',')[0]")
fi
TIMEOUT="${DEMO_TIMEOUT_SECONDS:-60}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

if [[ -t 2 ]]; then say() { printf '\033[1m%s\033[0m\n' "$*" >&2; }; else say() { printf '%s\n' "$*" >&2; }; fi
fail() { printf 'payment-demo: %s\n' "$*" >&2; exit 1; }

# field PATH < JSON: one value from a JSON answer (dots and [n] for arrays).
field() { node -e '
  let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
    let v = JSON.parse(s);
    for (const k of process.argv[1].split(".")) v = v?.[k];
    if (v === undefined || v === null) process.exit(3);
    console.log(typeof v === "object" ? JSON.stringify(v) : v);
  });' "$1"; }

# json KEY=VALUE...: a JSON object of strings (values may hold newlines, as PEM does).
json() { node -e 'const o = {}; for (const a of process.argv.slice(1)) { const i = a.indexOf("="); o[a.slice(0, i)] = a.slice(i + 1); } console.log(JSON.stringify(o));' "$@"; }

# call METHOD PATH [BODY] [extra curl args...]: JSON in, JSON out; stops on an unexpected status.
call() {
  local method=$1 path=$2 body=${3:-} expect=${EXPECT:-2..}
  shift $(( $# < 3 ? $# : 3 ))
  local out status
  out=$(curl -sS -X "$method" -w '\n%{http_code}' -H 'Content-Type: application/json' ${body:+-d "$body"} "$@" "$API$path")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  [[ "$status" =~ ^$expect$ ]] || fail "$method $path answered $status: $out"
  printf '%s' "$out"
}
ops() { call "$1" "$2" "${3:-}" -H "Authorization: Bearer $OPS_KEY" "${@:4}"; }

# Identifiers with valid check digits (decree 565 for IIN/BIN, ISO 13616 for IBAN).
read -r IIN IIN2 BIN IBAN OTHER_IBAN BENEFICIARY_BIN TODAY USD_IBAN < <(node -e '
  const crypto = require("crypto");
  const digits = n => Array.from(crypto.randomBytes(n), b => b % 10).join("");
  const check = e => { const w1 = [1,2,3,4,5,6,7,8,9,10,11], w2 = [3,4,5,6,7,8,9,10,11,1,2];
    let r = [...e].reduce((s, c, i) => s + c * w1[i], 0) % 11;
    if (r === 10) r = [...e].reduce((s, c, i) => s + c * w2[i], 0) % 11;
    return r === 10 ? null : r; };
  const id = make => { for (;;) { const e = make(); const c = check(e); if (c !== null) return e + c; } };
  const iin = () => id(() => "85" + String(1 + crypto.randomInt(12)).padStart(2, "0") + String(1 + crypto.randomInt(28)).padStart(2, "0") + "3" + digits(4));
  const bin = () => id(() => String(crypto.randomInt(26)).padStart(2, "0") + String(1 + crypto.randomInt(12)).padStart(2, "0") + "40" + digits(5));
  const iban = bank => { const bban = bank + digits(13);
    const n = (bban + "KZ00").replace(/[A-Z]/g, c => c.charCodeAt(0) - 55);
    const cd = String(98 - Number(BigInt(n) % 97n)).padStart(2, "0"); return "KZ" + cd + bban; };
  const today = new Date(Date.now() + 5 * 3600e3).toISOString().slice(0, 10);
  console.log(iin(), iin(), bin(), iban("998"), iban("601"), bin(), today, iban("998"));')

say "1. A test CA (the role NCA RK plays) and its CRL"
cat > ca.cnf <<EOF
[ca]
default_ca = demo
[demo]
database = $WORK/index.txt
crlnumber = $WORK/crlnumber
certificate = $WORK/ca.pem
private_key = $WORK/ca.key
default_md = sha256
default_crl_days = 30
EOF
touch index.txt && echo 01 > crlnumber
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -sha256 \
  -subj "/CN=DEMO NCA RK ROOT $RANDOM/C=KZ" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl ca -config ca.cnf -gencrl -out ca.crl 2>/dev/null
ops POST /api/v1/ops/trust-anchors "$(json certificate="$(cat ca.pem)")" > /dev/null
ops POST /api/v1/ops/crls "$(json crl="$(cat ca.crl)")" > /dev/null

say "2. A customer (BIN $BIN) with an account ($IBAN) and 1,000,000.00 KZT on it"
CUS=$(ops POST /api/v1/ops/customers "$(json name='ТОО «Демо»' bin="$BIN")" | field customerId)
ops POST "/api/v1/ops/customers/$CUS/accounts" "$(json iban="$IBAN" currency=KZT)" > /dev/null
ops POST "/api/v1/ops/accounts/$IBAN/credits" '{"amount":"1000000.00","reference":"demo"}' -H "Idempotency-Key: demo-$IBAN" > /dev/null

say "3. A signer (IIN $IIN) who is also the customer's admin; the temporary password is changed first"
PASSWORD="Demo-Passw0rd!$RANDOM"
# new_user LOGIN IIN NAME IS_ADMIN FUNCTIONS: the bank creates the user; the temporary password is changed to $PASSWORD (R-25).
new_user() {
  local created temp first
  created=$(ops POST "/api/v1/ops/customers/$CUS/users" \
    '{"login":"'"$1"'","fullName":"'"$3"'","iin":"'"$2"'","isAdmin":'"$4"',"permissions":{"accounts":["*"],"functions":'"$5"'}}')
  temp=$(printf '%s' "$created" | field temporaryPassword)
  first=$(EXPECT=403 call POST /api/v1/sessions "$(json login="$1" password="$temp")" | field sessionToken)
  call POST /api/v1/users/me/password "$(json currentPassword="$temp" newPassword="$PASSWORD")" -H "Authorization: Bearer $first" > /dev/null
  printf '%s' "$created"
}
LOGIN="demo$RANDOM$RANDOM"
USER=$(new_user "$LOGIN" "$IIN" "Демо Демов" true '["view","create","sign"]')
PORTAL=$(call POST /api/v1/sessions "$(json login="$LOGIN" password="$PASSWORD")" | field sessionToken)

say "4. API credentials, a client token and a software session"
PAIR=$(call POST /api/v1/credentials '{"name":"Demo ERP '"$RANDOM"'","scopes":["accounts.read","statements.read","documents.read","documents.write","notifications.read"]}' -H "Authorization: Bearer $PORTAL")
CID=$(printf '%s' "$PAIR" | field clientId)
CSECRET=$(printf '%s' "$PAIR" | field clientSecret)
TOKEN=$(curl -sS -u "$CID:$CSECRET" -d grant_type=client_credentials "$API/api/v1/oauth/token" | field access_token)
SESSION=$(call POST /api/v1/sessions "$(json login="$LOGIN" password="$PASSWORD")" -H "Authorization: Bearer $TOKEN" | field sessionToken)

say "5. The signer's certificate: SERIALNUMBER=IIN$IIN, OU=BIN$BIN, issued by the test CA"
openssl req -new -newkey rsa:2048 -nodes -keyout user.key -out user.csr -utf8 \
  -subj "/CN=ДЕМОВ ДЕМО/SN=ДЕМОВ/serialNumber=IIN$IIN/C=KZ/O=ТОО Демо/OU=BIN$BIN" 2>/dev/null
# NCA RK's profile of a signing key: nonRepudiation, EKU emailProtection plus the roles (legal entity employee,
# first head), and the legal-entity signing policy. An authentication key (clientAuth) would be refused.
printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,nonRepudiation' \
  'extendedKeyUsage=emailProtection,1.2.398.3.3.4.1.2,1.2.398.3.3.4.1.2.1' 'certificatePolicies=1.2.398.3.3.2.1' > user.ext
openssl x509 -req -in user.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -sha256 -extfile user.ext -out user.pem 2>/dev/null

# user_certificate FILE IIN CN: a certificate of one of the customer's users, with the signing profile above.
user_certificate() {
  openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -utf8 \
    -subj "/CN=$3/serialNumber=IIN$2/C=KZ/O=ТОО Демо/OU=BIN$BIN" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -sha256 -extfile user.ext -out "$1.pem" 2>/dev/null
}

if $TWO; then
  say "5b. A chief accountant (IIN $IIN2, may only sign), and the account's specimen card: director first, accountant second"
  LOGIN2="demo$RANDOM$RANDOM"
  USER2=$(new_user "$LOGIN2" "$IIN2" "Бухгалтер Демо" false '["view","sign"]')
  SESSION2=$(call POST /api/v1/sessions "$(json login="$LOGIN2" password="$PASSWORD")" -H "Authorization: Bearer $TOKEN" | field sessionToken)
  user_certificate accountant "$IIN2" "БУХГАЛТЕР ДЕМО"
  DIRECTOR_ID=$(printf '%s' "$USER" | field userId)
  ACCOUNTANT_ID=$(printf '%s' "$USER2" | field userId)
  ops PUT "/api/v1/ops/accounts/$IBAN/signature-rule" \
    '{"rule":"first+second","signers":[{"userId":"'"$DIRECTOR_ID"'","group":"first"},{"userId":"'"$ACCOUNTANT_ID"'","group":"second"}]}' > /dev/null
fi

if $CONVERSION; then
  say "6. The bank's rates of today (PUT /ops/exchange-rates/$TODAY), a USD account ($USD_IBAN), and a conversion order"
  ops PUT "/api/v1/ops/exchange-rates/$TODAY" '{"rates":[{"currency":"USD","buy":"470.25","sell":"475.00"},{"currency":"EUR","buy":"510.00","sell":"520.00"}]}' > /dev/null
  ops POST "/api/v1/ops/customers/$CUS/accounts" "$(json iban="$USD_IBAN" currency=USD)" > /dev/null
  # Buy 100.00 USD for tenge: the credited side fixed, the tenge side computed at the sell rate when it executes.
  cat > order.json <<EOF
{"type":"conversionOrder","number":"1","date":"$TODAY","debitIban":"$IBAN","creditIban":"$USD_IBAN",
 "amount":"100.00","amountCurrency":"USD","purpose":"Покупка USD для оплаты по контракту № 12"}
EOF
else
  say "6. A payment order, signed with openssl cms -sign (the content inside the signature)"
  cat > order.json <<EOF
{"type":"paymentOrder","number":"1","date":"$TODAY","amount":"150000.00","currency":"KZT",
 "payer":{"iban":"$IBAN","code":"17"},
 "beneficiary":{"name":"ТОО «Получатель»","idn":"$BENEFICIARY_BIN","iban":"$OTHER_IBAN","bic":"HSBKKZKX","code":"17"},
 "purposeCode":"710","purpose":"Оплата по договору № 1 за товары","valueDate":"$TODAY"}
EOF
fi
openssl cms -sign -binary -nodetach -md sha256 -in order.json -signer user.pem -inkey user.key -outform DER -out order.p7s
CMS=$(base64 < order.p7s | tr -d '\n')

say "7. Submitted with POST /api/v1/documents"
ACCEPTED=$(call POST /api/v1/documents '{"cms":"'"$CMS"'"}' -H "Authorization: Bearer $SESSION" -H "Idempotency-Key: demo-$RANDOM$RANDOM")
DOC=$(printf '%s' "$ACCEPTED" | field documentId)
printf '%s\n' "$ACCEPTED"

if $TWO; then
  say "7b. The first signature counted; the accountant signs the bytes GET /documents/$DOC/content serves (detached)"
  deadline=$(( SECONDS + TIMEOUT ))
  until [[ "$(call GET "/api/v1/documents/$DOC" "" -H "Authorization: Bearer $SESSION" | field status)" == awaitingSignatures ]]; do
    (( SECONDS < deadline )) || fail "the document never awaited its second signature"
    sleep 0.3
  done
  curl -sS -H "Authorization: Bearer $SESSION2" "$API/api/v1/documents/$DOC/content" -o content.json
  openssl cms -sign -binary -md sha256 -in content.json -signer accountant.pem -inkey accountant.key -outform DER -out second.p7s
  call POST "/api/v1/documents/$DOC/signatures" '{"cms":"'"$(base64 < second.p7s | tr -d '\n')"'"}' \
    -H "Authorization: Bearer $SESSION2" -H "Idempotency-Key: demo-$RANDOM$RANDOM" | field signing
fi

say "8. Its path (GET /api/v1/documents/$DOC)"
deadline=$(( SECONDS + TIMEOUT ))
while :; do
  DOCUMENT=$(call GET "/api/v1/documents/$DOC" "" -H "Authorization: Bearer $SESSION")
  STATUS=$(printf '%s' "$DOCUMENT" | field status)
  WAITING=$(printf '%s' "$DOCUMENT" | field waitingFor || true)
  if [[ "$STATUS" == executed || "$STATUS" == refused || "$WAITING" == operationalDay || $SECONDS -ge $deadline ]]; then break; fi
  sleep 0.5
done
printf '%s' "$DOCUMENT" | node -e '
  let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
    const d = JSON.parse(s);
    for (const h of d.statusHistory) console.log(`  ${h.at}  ${h.status}${h.reasonCode ? "  " + h.reasonCode + (h.failure ? "/" + h.failure : "") + ": " + h.reason : ""}`);
    if (d.paymentOrder) console.log(`  amount ${d.paymentOrder.amount} ${d.paymentOrder.currency}, commission ${d.paymentOrder.commission ?? "-"}, route ${d.paymentOrder.route}`);
    const c = d.conversionOrder && d.conversionOrder.conversion;
    if (c && c.rate) console.log(`  converted ${c.debitAmount} ${c.debitCurrency} -> ${c.creditAmount} ${c.creditCurrency} at ${c.rate} (rates of ${c.rateDate}, version ${c.rateVersion}), commission ${d.conversionOrder.commission ?? "0.00"}`);
  });'
case "$STATUS" in
  executed)
    curl -sS -H "Authorization: Bearer $SESSION" "$API/api/v1/documents/$DOC/archive" -o archived.p7s
    if $TWO; then
      openssl cms -verify -binary -inform DER -in archived.p7s -CAfile ca.pem -purpose any -out archived.json 2>/dev/null \
        && cmp -s archived.json content.json \
        && say "The archive returns one CMS with both signatures over the content; openssl verifies them (GET /api/v1/documents/$DOC/archive)."
    else
      cmp -s archived.p7s order.p7s && say "The archive returns the signed bytes exactly (GET /api/v1/documents/$DOC/archive)."
    fi
    if $CONVERSION; then
      say "9. Today's statement of each account in the formats ERPs import (GET /accounts/{iban}/statement?format=mt940|camt053|1c)"
      for account in "$IBAN" "$USD_IBAN"; do
        for format in mt940 camt053 1c; do
          curl -sS -OJ -H "Authorization: Bearer $SESSION" "$API/api/v1/accounts/$account/statement?from=$TODAY&to=$TODAY&format=$format"
        done
      done
      for file in statement-*; do printf '  %-52s %6s bytes\n' "$file" "$(wc -c < "$file")"; done
      grep -h '^:61:\|^:86:' "statement-$USD_IBAN-"*.sta | sed 's/^/  /'
    fi
    say "executed";;
  refused) fail "refused: $(printf '%s' "$DOCUMENT" | field reasonCode)";;
  *)
    say "Waiting for the next operational day (the bank is closed now); look again later:"
    echo "  curl -s -H 'Authorization: Bearer <session>' $API/api/v1/documents/$DOC";;
esac
