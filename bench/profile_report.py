#!/usr/bin/env python3
"""Splits the node's CPU per message (bench/profile.sh) into where it goes.

Input per phase: `perf report --no-children --sort dso,sym --stdio -q` text
and the load generator's line (which ends "broker CPU X us/msg"). Each
sample's function is put into one category by the first rule that matches;
a category's microseconds per message are its share of the samples times the
node's CPU per message from /proc. Prints a markdown table and the hottest
functions; --docs writes them into docs/benchmarks.md between markers.
"""
import argparse
import re
import sys

# The generated block in docs/benchmarks.md: --marker names it (default
# bench/profile.sh; bench/relay.sh --profile writes its own).
BEGIN = "<!-- {}: begin (generated; do not edit by hand) -->"
END = "<!-- {}: end -->"
DEFAULT_TITLE = ("One node as deployed (signatures verified, signed "
                 "acknowledgements, case rules)")

# (category, dso pattern, symbol pattern): first match wins. None matches all.
RULES = [
    ("verification (Ed25519, libsodium)", r"libsodium", None),
    ("hash (SHA-256: audit Merkle, envelope hashes)", None,
     r"(?i)sha256|sha2_|SHA256|sha512_block"),
    # Debian's libcrypto is stripped: its symbols show as addresses, so
    # SHA-256 inside it counts here, not under hash.
    ("other OpenSSL (TLS, AEAD, X25519; stripped, SHA-256 too)",
     r"libcrypto|libssl", None),
    # Generated message code lives in the node's binary, the runtime in
    # libprotobuf: both count.
    ("parse (protobuf)", r"libprotobuf|trm-broker",
     r"_InternalParse|MergeFrom|MergePartial|ReadTag|ReadVarint|"
     r"ParseContext|VarintParse|ReadString|ParseFrom"),
    ("encode (protobuf)", r"libprotobuf|trm-broker",
     r"Serialize|ByteSizeLong|WriteString|WriteVarint|EpsCopyOutputStream|"
     r"WriteRaw"),
    ("protobuf, other (copies, reflection)", r"libprotobuf", None),
    ("RocksDB (write batch, memtable, WAL, compaction)",
     r"librocksdb|libsnappy|liblz4|libzstd|libz\.", None),
    ("RocksDB (write batch, memtable, WAL, compaction)", None, r"rocksdb::"),
    ("gRPC (HTTP/2, completion queues)", r"libgrpc|libgpr|libupb|"
     r"libaddress_sorting|libre2|libcares", None),
    ("gRPC (HTTP/2, completion queues)", None, r"grpc"),
    ("allocation (malloc, free)", None,
     r"malloc|_int_free|\bfree\b|cfree|tcache|operator new|"
     r"operator delete|calloc|realloc|arena_"),
    ("libc (memcpy, strings)", r"libc\.so|libc-|libstdc\+\+", None),
    ("Abseil (mutexes, hash maps)", r"libabsl", None),
    ("kernel (network, fsync, scheduling)", r"kernel|\[unknown\]|vdso", None),
    ("trm-broker's own logic", r"trm-broker", None),
]
OTHER = "other"

LINE = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$")


def category(dso, sym):
    for name, dso_re, sym_re in RULES:
        if dso_re and not re.search(dso_re, dso):
            continue
        if sym_re and not re.search(sym_re, sym):
            continue
        return name
    return OTHER


def parse_profile(path):
    rows = []
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        pct, dso, space, sym = float(m[1]), m[2], m[3], m[4]
        if space == "k":
            dso = "[kernel]"
        rows.append((pct, dso, sym))
    return rows


def parse_line(path):
    text = open(path).read().strip()
    cpu = re.search(r"broker CPU (\d+) us/msg", text)
    rate = re.search(r"= (\d+) msg/s", text)
    if rate:
        rate = int(rate[1])
    else:  # the drain's line: "N distinct acknowledged ..., S s"
        n = re.search(r"(\d+) distinct acknowledged", text)
        secs = re.search(r", ([\d.]+) s\b", text)
        rate = round(int(n[1]) / float(secs[1])) if n and secs else None
    first = text.splitlines()[0] if text else ""
    return first, int(cpu[1]) if cpu else None, rate


def report(phases, n, title=DEFAULT_TITLE):
    out = []
    w = out.append
    w(f"{title}, 4 KiB, {n} messages; `perf record -F 1999` on the node. "
      f"Microseconds of node CPU per message, all threads, by where they "
      f"go:")
    w("")
    table = {}
    tops = {}
    totals = {}
    for name, prof, line in phases:
        rows = parse_profile(prof)
        text, cpu, rate = parse_line(line)
        total = sum(p for p, _, _ in rows) or 1.0
        cats = {}
        for pct, dso, sym in rows:
            c = category(dso, sym)
            cats[c] = cats.get(c, 0.0) + pct
        table[name] = {c: v / total for c, v in cats.items()}
        totals[name] = (cpu, rate, text)
        tops[name] = sorted(rows, reverse=True)[:12]
    names = [p[0] for p in phases]
    w("| where | " + " | ".join(f"{p} us/msg (share)" for p in names) + " |")
    w("|---|" + "---|" * len(names))
    order = []
    for c, _, _ in RULES + [(OTHER, None, None)]:
        if c not in order:
            order.append(c)
    for c in order:
        if not any(table[p].get(c) for p in names):
            continue
        cells = []
        for p in names:
            share = table[p].get(c, 0.0)
            cpu = totals[p][0]
            us = f"{share * cpu:.1f}" if cpu is not None else "?"
            cells.append(f"{us} ({share * 100:.0f}%)")
        w(f"| {c} | " + " | ".join(cells) + " |")
    w("| **node CPU per message** | " + " | ".join(
        f"**{totals[p][0]}**" for p in names) + " |")
    w("| rate (msg/s) | " + " | ".join(
        str(totals[p][1]) for p in names) + " |")
    w("")
    for p in names:
        w(f"Hottest functions, {p} ({totals[p][2]}):")
        w("")
        w("| share | library | function |")
        w("|---|---|---|")
        for pct, dso, sym in tops[p]:
            sym = sym.replace("|", "\\|")
            if len(sym) > 90:
                sym = sym[:87] + "..."
            w(f"| {pct:.1f}% | {dso} | `{sym}` |")
        w("")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--phase", action="append", required=True,
                    help="NAME=PERF_REPORT_TXT=LOAD_LINE_FILE")
    ap.add_argument("--docs")
    ap.add_argument("--title", default=DEFAULT_TITLE)
    ap.add_argument("--marker", default="bench/profile.sh")
    args = ap.parse_args()
    phases = [tuple(p.split("=", 2)) for p in args.phase]
    text = "\n".join(report(phases, args.n, args.title))
    print(text)
    if args.docs:
        doc = open(args.docs).read()
        begin, end = BEGIN.format(args.marker), END.format(args.marker)
        block = f"{begin}\n{text}\n{end}"
        if begin in doc and end in doc:
            doc = doc[:doc.index(begin)] + block + doc[doc.index(end) +
                                                         len(end):]
        else:
            doc = doc.rstrip("\n") + "\n\n## Where a message's time goes\n\n" \
                + block + "\n"
        open(args.docs, "w").write(doc)
        print(f"\nwritten to {args.docs}", file=sys.stderr)


if __name__ == "__main__":
    main()
