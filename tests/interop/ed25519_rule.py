#!/usr/bin/python3
"""Ed25519 under the verification rule of docs/protocol.md section 7, written
from that section and RFC 8032 alone (Python integers, hashlib), sharing no
code with trm-broker, libsodium or OpenSSL.

  ed25519_rule.py vectors                  # the edge-case vectors, as JSON
  ed25519_rule.py check EDGE.json          # this rule agrees with each verdict
  ed25519_rule.py wycheproof W.json        # and with every Wycheproof verdict

trm_envelope.py verifies envelope signatures with verify() below. Exit status
0 when every verdict agrees, 1 with one "FAIL: ..." line per disagreement.
"""
import hashlib
import json
import sys

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
MASK = 2**255 - 1


# ---- the curve (RFC 8032 section 5.1), extended coordinates ----------------

def add(p1, p2):
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * 2 * D * t2 % P
    d = z1 * 2 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def neg(pt):
    x, y, z, t = pt
    return (-x % P, y, z, -t % P)


IDENTITY = (0, 1, 1, 0)


def mul(s, pt):
    q = IDENTITY
    while s > 0:
        if s & 1:
            q = add(q, pt)
        pt = add(pt, pt)
        s >>= 1
    return q


def recover_x(y, sign, strict=True):
    """The x for y and its sign bit, or None (RFC 8032 section 5.1.3).
    strict=False takes x = 0 with the sign bit set, as ref10 does."""
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign and strict else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def decode(b, canonical=True):
    """The point of a 32-byte encoding, or None. With canonical=False, y is
    taken modulo p and x = 0 may carry a sign bit (as OpenSSL's verifier
    takes them)."""
    n = int.from_bytes(b, "little")
    y, sign = n & MASK, n >> 255
    if y >= P:
        if canonical:
            return None
        y -= P
    x = recover_x(y, sign, strict=canonical)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def encode(pt):
    x, y, z, _ = pt
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def same(p1, p2):
    return encode(p1) == encode(p2)


B = (lambda y: (recover_x(y, 0), y, 1, recover_x(y, 0) * y % P))(
    4 * pow(5, P - 2, P) % P)


def h_int(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(),
                          "little")


# ---- the rule of section 7 ---------------------------------------------------

def y_of(hex_le):
    return int.from_bytes(bytes.fromhex(hex_le), "little")


# The y coordinates of the eight points of small order (order 1, 2, 4, 8),
# as section 7 lists them; each with either sign bit.
SMALL_ORDER_Y = {
    1, P - 1, 0,
    y_of("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    y_of("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
}
# R is also refused when its y is p or p + 1: the points y = 0 and y = 1
# written the long way.
SMALL_ORDER_R = SMALL_ORDER_Y | {P, P + 1}


def key_problem(pk):
    """Why the public key `pk` is refused where it enters, or None."""
    if len(pk) != 32:
        return "not 32 bytes"
    y = int.from_bytes(pk, "little") & MASK
    if y >= P:
        return "not canonical"
    if y in SMALL_ORDER_Y:
        return "small order"
    a = decode(pk)
    if a is None:
        return "not a point of the curve"
    if not same(mul(L, a), IDENTITY):
        return "not in the prime-order subgroup"
    return None


def verify(pk, msg, sig):
    """Section 7's verification; False for a key key_problem() refuses."""
    if len(sig) != 64 or key_problem(pk) is not None:
        return False
    r, s = sig[:32], int.from_bytes(sig[32:], "little")
    if s >= L:
        return False
    if int.from_bytes(r, "little") & MASK in SMALL_ORDER_R:
        return False
    k = h_int(r, pk, msg) % L
    return encode(add(mul(s, B), neg(mul(k, decode(pk))))) == r


def loose_verify(pk, msg, sig):
    """RFC 8032's cofactorless equation with no checks of A or R beyond
    decoding A (y modulo p): what a verifier without section 7's refusals
    accepts. Only to show what each edge case would let through."""
    if len(sig) != 64:
        return False
    r, s = sig[:32], int.from_bytes(sig[32:], "little")
    a = decode(pk, canonical=False)
    if s >= L or a is None:
        return False
    k = h_int(r, pk, msg) % L
    return encode(add(mul(s, B), neg(mul(k, a)))) == r


# ---- signing, honest and crafted --------------------------------------------

def keypair(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:], encode(mul(a, B))


def sign(seed, msg):
    a, prefix, pk = keypair(seed)
    r = h_int(prefix, msg) % L
    rb = encode(mul(r, B))
    s = (r + h_int(rb, pk, msg) % L * a) % L
    return rb + s.to_bytes(32, "little")


def sign_as(a, pk, r_point_bytes, r, msg):
    """S for a chosen R (whose discrete log is r) under the key bytes pk."""
    s = (r + h_int(r_point_bytes, pk, msg) % L * a) % L
    return r_point_bytes + s.to_bytes(32, "little")


def le(n):
    return n.to_bytes(32, "little")


def vectors():
    """The edge cases of section 7's choices, each with its verdict under
    the rule, and under loose_verify to show what the choice refuses."""
    out = []

    def case(name, pk, msg, sig, why):
        out.append({"name": name, "pk": pk.hex(), "msg": msg.hex(),
                    "sig": sig.hex(), "valid": verify(pk, msg, sig),
                    "key_refused": key_problem(pk) is not None,
                    "loose_valid": loose_verify(pk, msg, sig), "why": why})

    seed = hashlib.sha256(b"trm-broker ed25519 edge cases").digest()
    a, _, pk = keypair(seed)
    msg = b"trm-broker/v1 edge case"
    sig = sign(seed, msg)
    case("honest", pk, msg, sig, "an ordinary signature")
    case("honest, empty message", pk, b"", sign(seed, b""), "RFC 8032")
    long_msg = bytes(range(256)) * 8
    case("honest, 2048-byte message", pk, long_msg, sign(seed, long_msg),
         "RFC 8032")
    case("message changed", pk, msg + b"!", sig, "not this message's")
    case("signature 63 bytes", pk, msg, sig[:63], "a signature is 64 bytes")
    case("signature 65 bytes", pk, msg, sig + b"\0", "a signature is 64 bytes")
    s = int.from_bytes(sig[32:], "little")
    case("S + L", pk, msg, sig[:32] + le(s + L), "S must be below L")
    case("S + 8L", pk, msg, sig[:32] + le(s + 8 * L), "S must be below L")
    case("S all ones", pk, msg, sig[:32] + b"\xff" * 32, "S must be below L")

    # R of small order, with S that satisfies the cofactorless equation:
    # R = identity, S = k * a.
    ident = le(1)
    case("R is the identity", pk, msg, sign_as(a, pk, ident, 0, msg),
         "R of small order is refused")
    case("R is the identity written as p + 1", pk, msg,
         sign_as(a, pk, le(P + 1), 0, msg),
         "R of small order, and not canonical")
    case("R is the identity with the sign bit set", pk, msg,
         sign_as(a, pk, le(1 | 1 << 255), 0, msg),
         "R of small order, and not canonical")
    # R with a small-order component: only a cofactored equation takes it.
    t8 = decode(bytes.fromhex(
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"))
    r = h_int(b"mixed R") % L
    mixed_r = encode(add(mul(r, B), t8))
    case("R of mixed order", pk, msg, sign_as(a, pk, mixed_r, r, msg),
         "the equation is cofactorless")

    # A with a small-order component: refused where it enters. With k a
    # multiple of 8 the cofactorless equation holds, so the key would sign.
    mixed_pk = encode(add(mul(a, B), t8))
    for want_zero in (True, False):
        i = 0
        while True:
            m = b"mixed key %d" % i
            r = h_int(b"r", m) % L
            rb = encode(mul(r, B))
            if (h_int(rb, mixed_pk, m) % L % 8 == 0) == want_zero:
                break
            i += 1
        case("A of mixed order, k a multiple of 8" if want_zero else
             "A of mixed order, k not a multiple of 8", mixed_pk, m,
             sign_as(a, mixed_pk, rb, r, m),
             "a key outside the prime-order subgroup is refused")

    # A of small order, each encoding, either sign bit, with the forgery
    # R = identity, S = 0 on a message it verifies for where one exists.
    for y in sorted(SMALL_ORDER_Y) + [P, P + 1]:
        for sign_bit in (0, 1):
            key = le(y | sign_bit << 255)
            forged = ident + bytes(32)
            m = b"forged 0"
            for i in range(64):
                if loose_verify(key, b"forged %d" % i, forged):
                    m = b"forged %d" % i
                    break
            case("A of small order, y=%x%s" % (y, " negative" if sign_bit
                                                else ""),
                 key, m, forged, "a small-order or non-canonical key is "
                 "refused: anyone could sign as it")
    # A not canonical, though the point exists: y + p for a small y that is
    # on the curve.
    y0 = next(y for y in range(2, 19) if recover_x(y, 0) is not None)
    case("A not canonical (y + p)", le(y0 + P), msg, sig,
         "a key's y must be below p")
    y1 = next(y for y in range(2, 1000) if recover_x(y, 0) is None)
    case("A not on the curve", le(y1), msg, sig, "no such point")
    return out


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "vectors":
        json.dump(vectors(), sys.stdout, indent=1)
        print()
        return 0
    if len(sys.argv) != 3 or sys.argv[1] not in ("check", "wycheproof"):
        print(__doc__, file=sys.stderr)
        return 2
    data = json.load(open(sys.argv[2]))
    fails, n = 0, 0
    if sys.argv[1] == "check":
        for v in data:
            pk, m, s = (bytes.fromhex(v[k]) for k in ("pk", "msg", "sig"))
            got = (verify(pk, m, s), key_problem(pk) is not None,
                   loose_verify(pk, m, s))
            n += 1
            if got != (v["valid"], v["key_refused"], v["loose_valid"]):
                print("FAIL: %s: got %s" % (v["name"], got))
                fails += 1
    else:
        for g in data["testGroups"]:
            pk = bytes.fromhex(g["publicKey"]["pk"])
            for t in g["tests"]:
                got = verify(pk, bytes.fromhex(t["msg"]),
                             bytes.fromhex(t["sig"]))
                n += 1
                if got != (t["result"] == "valid"):
                    print("FAIL: tcId %d (%s): %s" % (t["tcId"], t["result"],
                                                      t["comment"]))
                    fails += 1
    print("%d of %d verdicts agree" % (n - fails, n))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
