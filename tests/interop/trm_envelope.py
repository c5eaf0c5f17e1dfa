#!/usr/bin/python3
"""An independent implementation of trm-broker protocol v1, written from
docs/protocol.md alone, used to prove that the document is enough to
interoperate. It shares no code with trm-broker: its own protobuf encoding,
its own HKDF and HPKE (over Python's hmac/hashlib), its own Ed25519
verification under section 7's rule (ed25519_rule.py), and the
`cryptography` package (Debian's python3-cryptography) for X25519, Ed25519
signing and the AEADs.

  trm_envelope.py example                         # the worked example, hex
  trm_envelope.py seal --sign-key K --recipient-pub P --from ORG@NODE \
      --to ORG@NODE --type N --case C [--consent R] --in FILE --out FILE
  trm_envelope.py open --sender-pub P --recipient-key K --in FILE
Exit status 0 on success, 1 with "REASON: ..." on stderr when refused.
"""
import argparse
import hashlib
import hmac
import os
import struct
import sys
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.exceptions import InvalidTag

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ed25519_rule  # noqa: E402


class Refused(Exception):
    def __init__(self, reason, message):
        super().__init__(f"{reason}: {message}")
        self.reason = reason


# ---- protobuf (section 4) ---------------------------------------------------

def varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field_varint(num, value):
    return varint(num << 3) + varint(value)


def field_bytes(num, value):
    return varint(num << 3 | 2) + varint(len(value)) + value


def parse_fields(data, known, reason, not_canonical):
    """Returns {field_number: value}. Section 4: a field twice, or a varint
    longer than it needs, is refused with `not_canonical`."""
    fields, i = {}, 0

    def read_varint():
        nonlocal i
        start, shift, result = i, 0, 0
        while True:
            if i >= len(data) or shift > 63:
                raise Refused(reason, "truncated varint")
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if result >= 1 << 64:
                    raise Refused(not_canonical, "varint over 64 bits")
                if varint(result) != data[start:i]:
                    raise Refused(not_canonical, "varint longer than needed")
                return result

    while i < len(data):
        key = read_varint()
        num, wire = key >> 3, key & 7
        if num not in known or wire != known[num]:
            raise Refused(reason, f"unknown field {num} (wire type {wire})")
        if num in fields:
            raise Refused(not_canonical, f"field {num} twice")
        if wire == 0:
            fields[num] = read_varint()
        else:
            n = read_varint()
            if i + n > len(data):
                raise Refused(reason, "truncated field")
            fields[num] = data[i:i + n]
            i += n
    return fields


HEADER_WIRE = {1: 0, 2: 2, 3: 2, 4: 0, 5: 2, 6: 2, 7: 2, 8: 2, 9: 0, 10: 0,
               11: 2, 12: 2, 13: 0, 14: 0, 15: 0, 16: 2, 17: 0, 18: 0}
ENVELOPE_WIRE = {1: 2, 2: 2, 3: 2, 4: 2, 5: 2}
HEADER_STRINGS = (3, 5, 6, 7, 8, 12)


def check_header_canonical(header, h):
    """Section 4: the header's bytes are the canonical encoding of its
    fields: ascending order, no default value written (but field 15 when
    present), values within their types, strings valid UTF-8."""
    for num in HEADER_STRINGS:
        try:
            h.get(num, b"").decode("utf-8")
        except UnicodeDecodeError:
            raise Refused("HEADER_MALFORMED", f"field {num} is not UTF-8")
    for num, limit in ((1, 1 << 32), (18, 1 << 32), (4, 1 << 31),
                       (17, 1 << 31), (13, 2), (14, 2)):
        if h.get(num, 0) >= limit:
            raise Refused("HEADER_NOT_CANONICAL", f"field {num} out of range")
    canonical = b""
    for num in sorted(h):
        value = h[num]
        if num != 15 and value in (0, b""):
            raise Refused("HEADER_NOT_CANONICAL", f"field {num} is a default")
        canonical += (field_varint(num, value) if HEADER_WIRE[num] == 0
                      else field_bytes(num, value))
    if canonical != header:
        raise Refused("HEADER_NOT_CANONICAL", "fields out of order")


def encode_header(h):
    out = b""
    out += field_varint(1, h["schema_version"])
    out += field_bytes(2, h["message_id"])
    out += field_bytes(3, h["case_ref"].encode())
    out += field_varint(4, h["type"])
    for num, name in ((5, "sender_org"), (6, "sender_node"),
                      (7, "recipient_org"), (8, "recipient_node")):
        out += field_bytes(num, h[name].encode())
    out += field_varint(9, h["created_unix_ms"])
    out += field_varint(10, h["expires_unix_ms"])
    if h.get("in_reply_to"):
        out += field_bytes(11, h["in_reply_to"])
    if h.get("consent_ref"):
        out += field_bytes(12, h["consent_ref"].encode())
    if h.get("minor"):
        out += field_varint(13, 1)
    if h.get("asylum"):
        out += field_varint(14, 1)
    if h.get("departure_unix_ms") is not None:
        out += field_varint(15, h["departure_unix_ms"])
    out += field_bytes(16, h["recipient_key_id"])
    out += field_varint(17, h["aead_id"])
    return out


# ---- keys (sections 6 and 9) ------------------------------------------------

ED25519_SPKI = bytes.fromhex("302a300506032b6570032100")
X25519_SPKI = bytes.fromhex("302a300506032b656e032100")


def key_id(prefix, raw):
    return hashlib.sha256(prefix + raw).digest()[:16]


def raw_public(key):
    return key.public_bytes(serialization.Encoding.Raw,
                            serialization.PublicFormat.Raw)


def load(path, private):
    data = open(path, "rb").read()
    if private:
        return serialization.load_pem_private_key(data, None)
    return serialization.load_pem_public_key(data)


# ---- HPKE base mode (section 8.1) -------------------------------------------

INFO = b"trm-broker/v1 envelope"


def extract(salt, ikm):
    return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()


def expand(prk, info, length):
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def labeled_extract(suite, salt, label, ikm):
    return extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(suite, prk, label, info, length):
    return expand(prk, struct.pack(">H", length) + b"HPKE-v1" + suite + label
                  + info, length)


KEM_SUITE = b"KEM" + b"\x00\x20"


def shared_secret(dh, kem_context):
    if dh == bytes(32):
        raise Refused("DECRYPTION_FAILED", "low-order X25519 point")
    prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    return labeled_expand(KEM_SUITE, prk, b"shared_secret", kem_context, 32)


def key_schedule(aead_id, secret_in):
    suite = b"HPKE" + b"\x00\x20\x00\x01" + struct.pack(">H", aead_id)
    ctx = (b"\x00" + labeled_extract(suite, b"", b"psk_id_hash", b"")
           + labeled_extract(suite, b"", b"info_hash", INFO))
    secret = labeled_extract(suite, secret_in, b"secret", b"")
    nk = 32 if aead_id == 3 else 16
    return (labeled_expand(suite, secret, b"key", ctx, nk),
            labeled_expand(suite, secret, b"base_nonce", ctx, 12))


def aead(aead_id, key):
    if aead_id == 3:
        return ChaCha20Poly1305(key)
    if aead_id == 1:
        return AESGCM(key)
    raise Refused("UNKNOWN_AEAD", f"aead_id {aead_id}")


# ---- signature (section 7) --------------------------------------------------

def signature_input(header, enc, ciphertext):
    body = hashlib.sha256(struct.pack(">I", len(enc)) + enc + ciphertext).digest()
    return (b"trm-broker/v1 envelope-signature\x00" + struct.pack(">I", len(header))
            + header + body)


# ---- seal and open (sections 8.2, 8.3) --------------------------------------

def seal(h, payload, sign_key, recipient_pub, ephemeral=None,
         undecryptable=False):
    pk_r = raw_public(recipient_pub)
    h = dict(h, recipient_key_id=key_id(X25519_SPKI, pk_r))
    header = encode_header(h)
    eph = ephemeral or x25519.X25519PrivateKey.generate()
    enc = raw_public(eph.public_key())
    ss = shared_secret(eph.exchange(recipient_pub), enc + pk_r)
    key, nonce = key_schedule(h["aead_id"], ss)
    # undecryptable: sealed under other associated data, then signed as
    # usual, so the signature verifies and the ciphertext never opens (a
    # test of the recipient's refusal, docs/protocol.md section 15.3).
    aad = header + b"\x00" if undecryptable else header
    ciphertext = aead(h["aead_id"], key).encrypt(nonce, payload, aad)
    signature = sign_key.sign(signature_input(header, enc, ciphertext))
    sender_id = key_id(ED25519_SPKI, raw_public(sign_key.public_key()))
    return (field_bytes(1, header) + field_bytes(2, enc)
            + field_bytes(3, ciphertext) + field_bytes(4, sender_id)
            + field_bytes(5, signature))


def open_envelope(wire, sender_pub, recipient_key, now_ms):
    if len(wire) > (1 << 20) + 8192:
        raise Refused("FIELD_TOO_LARGE", "envelope")
    env = parse_fields(wire, ENVELOPE_WIRE, "ENVELOPE_MALFORMED",
                       "ENVELOPE_MALFORMED")
    header, enc, ct = env.get(1, b""), env.get(2, b""), env.get(3, b"")
    sender_id, sig = env.get(4, b""), env.get(5, b"")
    if not header or len(enc) != 32 or len(ct) < 16 or len(sender_id) != 16 \
            or len(sig) != 64:
        raise Refused("ENVELOPE_MALFORMED", "field sizes")
    if len(header) > 4096 or len(ct) > (1 << 20) + 16:
        raise Refused("FIELD_TOO_LARGE", "header or ciphertext")
    h = parse_fields(header, HEADER_WIRE, "HEADER_MALFORMED",
                     "HEADER_NOT_CANONICAL")
    check_header_canonical(header, h)
    if h.get(1, 0) != 1:
        raise Refused("UNSUPPORTED_SCHEMA_VERSION", str(h.get(1, 0)))
    aead_id = h.get(17, 0)
    if aead_id not in (1, 3):
        raise Refused("UNKNOWN_AEAD", str(aead_id))
    if len(h.get(2, b"")) != 16 or len(h.get(16, b"")) != 16:
        raise Refused("HEADER_INVALID", "message_id or recipient_key_id")
    sender_raw = raw_public(sender_pub)
    if key_id(ED25519_SPKI, sender_raw) != sender_id:
        raise Refused("SENDER_KEY_MISMATCH", sender_id.hex())
    problem = ed25519_rule.key_problem(sender_raw)
    if problem is not None:
        raise Refused("BAD_KEY", "the sender's key is " + problem)
    if not ed25519_rule.verify(sender_raw, signature_input(header, enc, ct),
                               sig):
        raise Refused("SIGNATURE_INVALID", "signature does not verify")
    if now_ms >= h.get(10, 0):
        raise Refused("MESSAGE_EXPIRED", str(h.get(10, 0)))
    if h.get(9, 0) > now_ms + 5 * 60 * 1000:
        raise Refused("CREATED_IN_FUTURE", str(h.get(9, 0)))
    pk_r = raw_public(recipient_key.public_key())
    if key_id(X25519_SPKI, pk_r) != h[16]:
        raise Refused("RECIPIENT_KEY_MISMATCH", h[16].hex())
    try:
        dh = recipient_key.exchange(x25519.X25519PublicKey.from_public_bytes(enc))
    except ValueError:
        raise Refused("DECRYPTION_FAILED", "low-order X25519 point")
    key, nonce = key_schedule(aead_id, shared_secret(dh, enc + pk_r))
    try:
        return h, aead(aead_id, key).decrypt(nonce, ct, header)
    except InvalidTag:
        raise Refused("DECRYPTION_FAILED", "ciphertext does not open")


def example(aead_id=3):
    """Section 11 of docs/protocol.md (11.1 with aead_id 1)."""
    counting = lambda start: bytes(range(start, start + 32))
    sign = ed25519.Ed25519PrivateKey.from_private_bytes(counting(0x00))
    rcpt = x25519.X25519PrivateKey.from_private_bytes(counting(0x20))
    eph = x25519.X25519PrivateKey.from_private_bytes(counting(0x40))
    h = dict(schema_version=1, message_id=bytes(range(16)),
             case_ref="BG-2026-000123", type=4, sender_org="bg-ngo-animus",
             sender_node="bg", recipient_org="ng-naptip", recipient_node="ng",
             created_unix_ms=1795000000000, expires_unix_ms=1795604800000,
             consent_ref="CONSENT-7", aead_id=aead_id)
    payload = b"needs: shelter, medical care; services: reintegration"
    return seal(h, payload, sign, rcpt.public_key(), eph)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("example").add_argument("--aead", type=int, default=3)
    s = sub.add_parser("seal")
    for flag in ("--sign-key", "--recipient-pub", "--from", "--to", "--case",
                 "--in", "--out"):
        s.add_argument(flag, required=True)
    s.add_argument("--type", type=int, required=True)
    s.add_argument("--consent", default="")
    s.add_argument("--aead", type=int, default=3)
    s.add_argument("--undecryptable", action="store_true")
    o = sub.add_parser("open")
    for flag in ("--sender-pub", "--recipient-key", "--in"):
        o.add_argument(flag, required=True)
    a = p.parse_args()
    try:
        if a.cmd == "example":
            print(example(a.aead).hex())
        elif a.cmd == "seal":
            now = int(time.time() * 1000)
            frm, to = getattr(a, "from").split("@"), a.to.split("@")
            h = dict(schema_version=1, message_id=os.urandom(16),
                     case_ref=a.case, type=a.type, sender_org=frm[0],
                     sender_node=frm[1], recipient_org=to[0],
                     recipient_node=to[1], created_unix_ms=now,
                     expires_unix_ms=now + 86400000, consent_ref=a.consent,
                     aead_id=a.aead)
            wire = seal(h, open(a.__dict__["in"], "rb").read(),
                        load(a.sign_key, True), load(a.recipient_pub, False),
                        undecryptable=a.undecryptable)
            open(a.out, "wb").write(wire)
        else:
            _, payload = open_envelope(open(a.__dict__["in"], "rb").read(),
                                       load(a.sender_pub, False),
                                       load(a.recipient_key, True),
                                       int(time.time() * 1000))
            sys.stdout.buffer.write(payload)
    except Refused as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
