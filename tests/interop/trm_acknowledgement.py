#!/usr/bin/python3
"""Signed acknowledgements of docs/protocol.md section 15.1, alone and in
batches, written from the document alone and sharing no code with
trm-broker: the bodies' encoding, the RFC 9162 Merkle tree over them, the
batch signature, each message's evidence, and the check of one.

  trm_acknowledgement.py example   # section 15.1.1's values, as the document shows them

verify() checks one message's evidence and raises Refused("REASON", ...) as
trm-broker refuses it; interop_test.sh uses it and tamper() on the example.
"""
import argparse
import hashlib
import os
import sys

from cryptography.hazmat.primitives.asymmetric import ed25519

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ed25519_rule  # noqa: E402
from trm_envelope import (ED25519_SPKI, Refused, field_bytes,  # noqa: E402
                          field_varint, key_id, raw_public)

LABEL = b"trm-broker/v1 acknowledgement"
BATCH_LABEL = b"trm-broker/v1 acknowledgement-batch"
MAX_BATCH = 4096
MAX_PATH = 12


# ---- bodies and messages (section 15.1) -------------------------------------

def body(message_id, envelope_sha256, recipient_org, time_unix_ms):
    """A serialized AcknowledgementBody (fields in order, defaults left out)."""
    return (field_bytes(1, message_id) + field_bytes(2, envelope_sha256)
            + field_bytes(3, recipient_org.encode()) + field_varint(4, time_unix_ms))


def signed_acknowledgement(body_bytes, kid, signature, leaf_index=0,
                           batch_size=0, path=(), root=b""):
    out = field_bytes(1, body_bytes) + field_bytes(2, kid) + field_bytes(3, signature)
    if leaf_index:
        out += field_varint(4, leaf_index)
    if batch_size:
        out += field_varint(5, batch_size)
    for h in path:
        out += field_bytes(6, h)
    if root:
        out += field_bytes(7, root)
    return out


def read_fields(data):
    """[(number, value)] in order; lengths and varints as section 4."""
    out, i = [], 0

    def read_varint():
        nonlocal i
        shift, result = 0, 0
        while True:
            if i >= len(data) or shift > 63:
                raise Refused("ACKNOWLEDGEMENT_MALFORMED", "truncated varint")
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    while i < len(data):
        key = read_varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            out.append((num, read_varint()))
        elif wire == 2:
            n = read_varint()
            if i + n > len(data):
                raise Refused("ACKNOWLEDGEMENT_MALFORMED", "truncated field")
            out.append((num, data[i:i + n]))
            i += n
        else:
            raise Refused("ACKNOWLEDGEMENT_MALFORMED", f"wire type {wire}")
    return out


# ---- RFC 9162 section 2.1 ---------------------------------------------------

def leaf_hash(leaf):
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes):
    if len(hashes) == 1:
        return hashes[0]
    k = split(len(hashes))
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def inclusion_path(m, hashes):
    """PATH(m, D[n]), nearest sibling first (section 2.1.3.1)."""
    if len(hashes) == 1:
        return []
    k = split(len(hashes))
    if m < k:
        return inclusion_path(m, hashes[:k]) + [mth(hashes[k:])]
    return inclusion_path(m - k, hashes[k:]) + [mth(hashes[:k])]


def root_from_path(index, size, leaf, path):
    """The root the path leads to (section 2.1.3.2), or None."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def batch_input(size, root):
    return BATCH_LABEL + b"\x00" + size.to_bytes(8, "big") + root


# ---- signing a batch, and each message's evidence ---------------------------

def sign_batch(bodies, sign_key):
    """(AcknowledgementBatch bytes, [SignedAcknowledgement bytes per body])."""
    kid = key_id(ED25519_SPKI, raw_public(sign_key.public_key()))
    hashes = [leaf_hash(b) for b in bodies]
    root = mth(hashes)
    sig = sign_key.sign(batch_input(len(bodies), root))
    batch = b"".join(field_bytes(1, b) for b in bodies)
    batch += field_bytes(2, kid) + field_bytes(3, sig)
    each = [signed_acknowledgement(b, kid, sig, i, len(bodies),
                                   inclusion_path(i, hashes), root)
            for i, b in enumerate(bodies)]
    return root, sig, batch, each


def verify(evidence, public_raw):
    """Refused unless `evidence` (a SignedAcknowledgement) is signed by the
    key, alone or through its batch root. Returns the body's fields."""
    bad = lambda what: Refused("ACKNOWLEDGEMENT_MALFORMED", what)
    f = {1: b"", 2: b"", 3: b"", 4: 0, 5: 0, 7: b""}
    path = []
    for num, value in read_fields(evidence):
        if num == 6:
            path.append(value)
        elif num in f:
            f[num] = value
        else:
            raise bad(f"unknown field {num}")
    b = dict(read_fields(f[1]))
    if (len(b.get(1, b"")) != 16 or len(b.get(2, b"")) != 32 or not b.get(3)
            or b.get(4, 0) <= 0):
        raise bad("body needs a 16-byte id, a 32-byte hash, an org and a time")
    if len(f[2]) != 16 or len(f[3]) != 64:
        raise bad("needs a 16-byte key_id and a 64-byte signature")
    if key_id(ED25519_SPKI, public_raw) != f[2]:
        raise Refused("ACKNOWLEDGEMENT_SIGNATURE_INVALID", "signed by another key")
    index, size, root = f[4], f[5], f[7]
    if size == 0:
        if index or path or root:
            raise bad("signed alone, yet with batch fields")
        signed = LABEL + b"\x00" + f[1]
    else:
        if (size > MAX_BATCH or index >= size or len(root) != 32
                or len(path) > MAX_PATH or any(len(p) != 32 for p in path)):
            raise bad("batch fields out of range")
        if root_from_path(index, size, leaf_hash(f[1]), path) != root:
            raise Refused("ACKNOWLEDGEMENT_SIGNATURE_INVALID",
                          "the inclusion path does not lead to the root signed")
        signed = batch_input(size, root)
    if not ed25519_rule.verify(public_raw, signed, f[3]):
        raise Refused("ACKNOWLEDGEMENT_SIGNATURE_INVALID",
                      "the signature does not verify")
    return b


# ---- section 15.1.1 ---------------------------------------------------------

def example():
    """The worked example: name and hex lines, 32 bytes a line."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(0x60, 0x80)))
    pub = raw_public(key.public_key())
    bodies = [body(bytes([i]) * 16, bytes([0xa0 + i]) * 32, "ng-naptip",
                   1795000060000) for i in (1, 2, 3)]
    root, sig, batch, each = sign_batch(bodies, key)
    for e in each:
        verify(e, pub)
    values = [("acknowledger_public_key", pub),
              ("acknowledger_key_id", key_id(ED25519_SPKI, pub))]
    values += [(f"body_{i + 1}", b) for i, b in enumerate(bodies)]
    values += [("batch_root", root), ("batch_signature", sig),
               ("acknowledgement_batch", batch), ("acknowledgement_3", each[2])]
    lines = []
    for name, value in values:
        lines.append(name + ":")
        h = value.hex()
        lines += [h[i:i + 64] for i in range(0, len(h), 64)]
    return "\n".join(lines)


def tamper(evidence, what):
    """The evidence changed one way, for the refusal tests."""
    out, first_path = b"", True
    for num, value in read_fields(evidence):
        if what == "leaf_index" and num == 4:
            value += 1
        if what == "path" and num == 6 and first_path:
            value, first_path = bytes([value[0] ^ 1]) + value[1:], False
        if what == "root" and num == 7:
            value = bytes([value[0] ^ 1]) + value[1:]
        if what == "alone" and num in (4, 5, 6, 7):
            continue
        out += field_varint(num, value) if isinstance(value, int) else field_bytes(num, value)
    return out


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("example")
    p.parse_args()
    print(example())
    return 0


if __name__ == "__main__":
    sys.exit(main())
