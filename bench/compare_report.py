#!/usr/bin/env python3
"""Turns bench/compare.sh's RESULT lines into the comparison tables.

Prints them to the terminal and, with --docs FILE, replaces the part of FILE
between the compare markers (adding the markers after the title if absent).
Every figure is the median of the runs, with min and max beside it.
"""
import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys

BEGIN = "<!-- bench/compare.sh: begin (generated; do not edit by hand) -->"
END = "<!-- bench/compare.sh: end -->"

SYSTEMS = [
    ("trm-verify", "trm-broker, signatures verified", "A: fsync before ack"),
    ("trm-noverify", "trm-broker, verification off", "A: fsync before ack"),
    ("rmq-quorum", "RabbitMQ quorum queue", "A: fdatasync before confirm"),
    ("rmq-classic", "RabbitMQ classic durable queue", "A: fsync before confirm"),
    ("nats", "NATS JetStream, file storage", "B: page cache before ack"),
]
NAMES = {k: n for k, n, _ in SYSTEMS}


def parse(path):
    rows = []
    for line in open(path):
        parts = line.split()
        if not parts or parts[0] != "RESULT":
            continue
        rows.append(dict(p.split("=", 1) for p in parts[1:] if "=" in p))
    return rows


def values(rows, key, **match):
    out = []
    for r in rows:
        if all(r.get(k) == str(v) for k, v in match.items()) and key in r:
            try:
                out.append(float(r[key]))
            except ValueError:
                pass
    return out


def med(v):
    return statistics.median(v) if v else None


def fmt(v, unit=""):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}{unit}"
    return f"{v:.2f}{unit}" if abs(v) < 10 else f"{v:.1f}{unit}"


def spread(v, unit=""):
    """median (min-max)"""
    if not v:
        return "-"
    if len(v) == 1:
        return fmt(v[0], unit)
    return f"{fmt(med(v), unit)} ({fmt(min(v))}-{fmt(max(v))})"


def ratio(a, b):
    if a is None or b in (None, 0):
        return None
    return a / b


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001 - a description line, not a result
        return ""


def machine():
    cpu = sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
    mem = sh("awk '/MemTotal/ {printf \"%.0f GiB\", $2/1048576}' /proc/meminfo")
    disk = sh("df -hT /tmp | awk 'NR==2 {print $2\", \"$3\" total\"}'")
    osname = sh(". /etc/os-release; echo $PRETTY_NAME")
    nats = sh("nats-server --version")
    rmq = sh("dpkg-query -W -f='${Version}' rabbitmq-server")
    erl = sh("dpkg-query -W -f='${Version}' erlang-base")
    ssl = sh("openssl version")
    rev = sh("git rev-parse --short HEAD")
    gcc = sh("gcc -dumpversion")
    return [
        f"- {os.cpu_count()} cores, {cpu}; {mem} memory; /tmp on {disk}",
        f"- Linux {platform.release()}; {osname}",
        f"- {nats}; RabbitMQ {rmq} (Erlang {erl}); {ssl}",
        f"- trm-broker {rev}, release build (-O3), gcc {gcc}",
    ]


def report(rows, args):
    out = []
    w = out.append
    today = datetime.date.today().isoformat()
    mode = "--quick" if args.quick else "full"
    w(f"Run of {today} ({mode}, {args.runs} runs of each cell, "
      f"{args.elapsed // 60} min {args.elapsed % 60} s in all), this machine:")
    w("")
    out.extend(machine())
    w("")
    w("Durability tiers: **A** = the broker syncs the message to disk "
      "before it acknowledges it (survives power loss); **B** = written to "
      "the page cache before the acknowledgement (NATS 2.9 syncs every two "
      "minutes; survives a process crash, not a power loss).")
    w("")

    # Headline: 4 KiB, window 64, one producer.
    head = dict(size=4096, window=64, producers=1)
    w("### 4 KiB messages, window 64, one producer")
    w("")
    w("| system | tier | publish msg/s | confirm p50 / p99 ms | drain msg/s "
      "| broker CPU us/msg (publish) | fsyncs/msg | end to end at 50%: "
      "p50 / p99 / p99.9 ms | at 80% |")
    w("|---|---|---|---|---|---|---|---|---|")
    pub = {}
    p99 = {}
    for key, name, tier in SYSTEMS:
        v = values(rows, "msgps", system=key, mode="publish", **head)
        pub[key] = med(v)
        p50 = med(values(rows, "p50_us", system=key, mode="publish", **head))
        p99[key] = med(values(rows, "p99_us", system=key, mode="publish",
                              **head))
        drain = values(rows, "msgps", system=key, mode="drain", **head)
        cpu = med(values(rows, "broker_cpu_us", system=key, mode="publish",
                         **head))
        syncs = values(rows, "syncs", system=key, mode="fsyncs")
        n = values(rows, "n", system=key, mode="fsyncs")
        fs = syncs[0] / n[0] if syncs and n else None
        paced = []
        for share in ("50", "80"):
            q = [med(values(rows, k, system=key, mode="paced", share=share))
                 for k in ("p50_us", "p99_us", "p999_us")]
            paced.append(" / ".join(fmt(x / 1000 if x is not None else None)
                                    for x in q))
        w(f"| {name} | {tier} | {spread(v)} | "
          f"{fmt(p50 / 1000 if p50 else None)} / "
          f"{fmt(p99[key] / 1000 if p99[key] else None)} | {spread(drain)} | "
          f"{fmt(cpu)} | {fmt(fs)} | {paced[0]} | {paced[1]} |")
    two = values(rows, "msgps", system="trm-two-nodes")
    two_cpu = med(values(rows, "broker_cpu_us", system="trm-two-nodes"))
    ng_cpu = med(values(rows, "ng_cpu_us", system="trm-two-nodes"))
    two_lat = [med(values(rows, k, system="trm-two-nodes"))
               for k in ("e2e_p50_ms", "e2e_p99_ms", "e2e_p999_ms")]
    w(f"| trm-broker, two nodes end to end over mutual TLS (both verify) | A "
      f"| {spread(two)} | - | (included) | BG {fmt(two_cpu)}, NG "
      f"{fmt(ng_cpu)} | - | {' / '.join(fmt(x) for x in two_lat)} | - |")
    w("")

    # Targets (issue 18), each a ratio from this run.
    ver = values(rows, "ed25519_verify_per_s", system="limits")
    s1 = values(rows, "sodium_verify_per_s", system="limits")
    sall = values(rows, "sodium_verify_all_cores_per_s", system="limits")
    ceiling = med(sall)
    drain = {k: med(values(rows, "msgps", system=k, mode="drain", **head))
             for k, _, _ in SYSTEMS}
    w("### The targets (ratios from this run)")
    w("")
    w("trm-broker as deployed: signatures verified, signed acknowledgements "
      "required (the consumer signs each), case rules on.")
    w("")
    w("| target | ours | theirs | ratio | want | met |")
    w("|---|---|---|---|---|---|")

    def target(label, ours, theirs, want, unit="msg/s", lower=False):
        r = ratio(ours, theirs)
        if r is None:
            met = "not measured"
        elif lower:
            met = "yes" if r < want else "**no**"
        else:
            met = "yes" if r >= want else "**no**"
        w(f"| {label} | {fmt(ours)} {unit} | {fmt(theirs)} {unit} | "
          f"{fmt(r) + 'x' if r is not None else '-'} | "
          f"{'<' if lower else '>='} {want}x | {met} |")

    target("publish, verified, vs RabbitMQ quorum", pub["trm-verify"],
           pub["rmq-quorum"], 1.0)
    target("publish, verified, vs the verification ceiling (all cores "
           "verifying, same run)", pub["trm-verify"], ceiling, 0.7)
    target("publish, verification off, vs RabbitMQ quorum",
           pub["trm-noverify"], pub["rmq-quorum"], 1.5)
    target("drain with signed acknowledgements vs RabbitMQ quorum's drain",
           drain["trm-verify"], drain["rmq-quorum"], 0.5)
    target("confirm p99 at window 64, verified, vs RabbitMQ quorum",
           p99["trm-verify"] / 1000 if p99["trm-verify"] else None,
           p99["rmq-quorum"] / 1000 if p99["rmq-quorum"] else None, 1.0,
           unit="ms", lower=True)
    target("two nodes end to end over TLS vs RabbitMQ quorum single hop",
           med(two), pub["rmq-quorum"], 0.5)
    bl = [r for r in rows if r.get("system") == "trm-backlog"]
    if bl:
        b = bl[-1]
        n = int(float(b["n"]))
        sub, dr = float(b["submit_ratio"]), float(b["drain_ratio"])
        rs, rss = float(b["restart_ms"]) / 1000, float(b["peak_rss_mib"])
        w(f"| after {n:,} messages: publish, vs a fresh node | - | - | "
          f"{fmt(sub)}x | >= 0.85x | {'yes' if sub >= 0.85 else '**no**'} |")
        w(f"| after {n:,} messages: drain (slowest round), vs a fresh node "
          f"| - | - | {fmt(dr)}x | >= 0.85x | "
          f"{'yes' if dr >= 0.85 else '**no**'} |")
        w(f"| restart after kill -9 with {n:,} queued | {fmt(rs)} s | - | - "
          f"| < 5 s | {'yes' if rs < 5 else '**no**'} |")
        w(f"| peak RSS throughout | {fmt(rss)} MiB | - | - | < 512 MiB | "
          f"{'yes' if rss < 512 else '**no**'} |")
    else:
        w("| after 1,000,000 messages (bench/backlog.sh) | - | - | - | "
          "within 15%, restart < 5 s, RSS < 512 MiB | not run (--backlog 0) |")
    r = ratio(pub["trm-verify"], pub["trm-noverify"])
    w(f"| (the price of verification: verified / not verified) | "
      f"{fmt(pub['trm-verify'])} msg/s | {fmt(pub['trm-noverify'])} msg/s | "
      f"{fmt(r)}x | - | - |")
    w("")

    # Writes per message.
    wr = [r for r in rows if r.get("mode") == "writes"]
    if wr:
        w("### RocksDB writes per message (4 KiB, window 64, the node's "
          "metrics)")
        w("")
        w("| node | publish: keys / bytes | drain: keys / bytes |")
        w("|---|---|---|")
        for key in ("trm-verify", "trm-noverify"):
            cells = []
            for phase in ("publish", "drain"):
                k = med(values(rows, "keys_per_msg", system=key, mode="writes",
                               phase=phase))
                by = med(values(rows, "bytes_per_msg", system=key,
                                mode="writes", phase=phase))
                cells.append(f"{fmt(k)} / {fmt(by)}")
            w(f"| {NAMES[key]} | {cells[0]} | {cells[1]} |")
        w("")

    # Physical limits.
    fs = values(rows, "msgps", system="disk")
    fs50 = med(values(rows, "p50_us", system="disk"))
    aead = values(rows, "chacha20poly1305_bytes_per_s", system="limits")
    w("### Physical limits, same session")
    w("")
    w(f"- 4 KiB append + fdatasync: {spread(fs)} per second (p50 "
      f"{fmt(fs50)} us): a broker that syncs each message alone is bounded "
      "there; group commit shares a sync among many.")
    if sall:
        cores = os.cpu_count() or 1
        w(f"- Ed25519 verification as the node does it (libsodium, "
          f"crypto_bench): one core {spread(s1)} per second; all {cores} "
          f"cores at once, doing nothing else (the verification ceiling): "
          f"{spread(sall)} per second, "
          f"{fmt(ratio(ceiling, pub['rmq-quorum']))}x RabbitMQ quorum's "
          "publish rate above.")
    if ver:
        w(f"- Ed25519 verification through OpenSSL (`openssl speed`, one "
          f"core, for comparison): {spread(ver)} per second.")
    if aead:
        w(f"- ChaCha20-Poly1305, 4 KiB blocks, one core: "
          f"{fmt(med(aead) / 1e9)} GB/s (the node never decrypts; clients "
          "do).")
    w("")

    # Matrices.
    sizes = sorted({int(r["size"]) for r in rows if r.get("mode") == "publish"
                    and r.get("system") in NAMES})
    windows = sorted({int(r["window"]) for r in rows
                      if r.get("mode") == "publish" and r.get("system") in NAMES})
    prods = sorted({int(r["producers"]) for r in rows
                    if r.get("mode") == "publish" and r.get("system") in NAMES})
    for mode, title in (("publish", "Publish, msg/s (confirm p99 ms)"),
                        ("drain", "Drain with acknowledgements, msg/s")):
        w(f"### {title}: every cell, medians of {args.runs}")
        w("")
        w("| size | window | producers | " +
          " | ".join(NAMES[k] for k, _, _ in SYSTEMS) +
          " | verified / quorum |")
        w("|---|---|---|" + "---|" * (len(SYSTEMS) + 1))
        for size in sizes:
            for win in windows:
                for p in prods:
                    m = dict(mode=mode, size=size, window=win, producers=p)
                    cells = []
                    got = {}
                    for key, _, _ in SYSTEMS:
                        v = med(values(rows, "msgps", system=key, **m))
                        got[key] = v
                        c = fmt(v)
                        if mode == "publish":
                            q = med(values(rows, "p99_us", system=key, **m))
                            if q is not None:
                                c += f" ({fmt(q / 1000)})"
                        cells.append(c)
                    r = ratio(got["trm-verify"], got["rmq-quorum"])
                    w(f"| {size} | {win} | {p} | " + " | ".join(cells) +
                      f" | {fmt(r)}x |")
        w("")
    errors = sum(float(r.get("errors", 0)) for r in rows)
    w(f"Errors (refused, unconfirmed or lost messages) in all runs: "
      f"{errors:.0f}.")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--elapsed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--docs")
    args = ap.parse_args()
    rows = parse(args.results)
    if not rows:
        sys.exit("compare_report: no RESULT lines in " + args.results)
    text = "\n".join(report(rows, args))
    print(text)
    if args.docs:
        doc = open(args.docs).read()
        block = f"{BEGIN}\n{text}\n{END}"
        if BEGIN in doc and END in doc:
            a = doc.index(BEGIN)
            b = doc.index(END) + len(END)
            doc = doc[:a] + block + doc[b:]
        else:
            first = doc.index("\n") + 1
            doc = doc[:first] + "\n" + block + "\n" + doc[first:]
        open(args.docs, "w").write(doc)
        print(f"\nwritten to {args.docs}")


if __name__ == "__main__":
    main()
