#!/usr/bin/env python3
"""bench/profile_report.py puts each sampled function where it belongs and
turns shares into microseconds per message from the node's measured CPU.

usage: profile_report_test.py REPO_ROOT
"""
import pathlib
import subprocess
import sys
import tempfile

root = pathlib.Path(sys.argv[1])
# A perf report in the layout `perf report --no-children --sort dso,sym
# --stdio -q` prints, summing to 100%.
PERF = """\
    40.00%  libsodium.so.23.3.0   [.] 0x000000000000f0ab
    20.00%  librocksdb.so.7.8.3   [.] rocksdb::MemTable::KeyComparator::operator()
    10.00%  [kernel.kallsyms]     [k] pvm_irq_enable
     5.00%  trm-broker            [.] trm::v1::Envelope::_InternalParse(char const*, google::protobuf::internal::ParseContext*)
     5.00%  trm-broker            [.] trm::v1::AuditEvent::_InternalSerialize(unsigned char*, google::protobuf::io::EpsCopyOutputStream*) const
     5.00%  libcrypto.so.3        [.] sha256_block_data_order_avx2
     5.00%  libc.so.6             [.] malloc
     5.00%  libgrpc.so.29         [.] grpc_core::ExecCtx::Flush()
     5.00%  trm-broker            [.] trm::storage::AuditLog::Add
"""
LINE = ("produce: 100 receipts in 1.00 s = 100 msg/s, latency p50 1 us "
        "broker CPU 200 us/msg")
with tempfile.TemporaryDirectory() as d:
    d = pathlib.Path(d)
    (d / "p.txt").write_text(PERF)
    (d / "p.line").write_text(LINE)
    (d / "doc.md").write_text("# Benchmarks\n")
    out = subprocess.run(
        [sys.executable, str(root / "bench" / "profile_report.py"), "--n",
         "100", "--phase", f"publish={d / 'p.txt'}={d / 'p.line'}", "--docs",
         str(d / "doc.md")], capture_output=True, text=True, check=True).stdout
    doc = (d / "doc.md").read_text()

want = {
    "verification (Ed25519, libsodium)": "80.0 (40%)",
    "RocksDB (write batch, memtable, WAL, compaction)": "40.0 (20%)",
    "kernel (network, fsync, scheduling)": "20.0 (10%)",
    "parse (protobuf)": "10.0 (5%)",
    "encode (protobuf)": "10.0 (5%)",
    "hash (SHA-256: audit Merkle, envelope hashes)": "10.0 (5%)",
    "allocation (malloc, free)": "10.0 (5%)",
    "gRPC (HTTP/2, completion queues)": "10.0 (5%)",
    "trm-broker's own logic": "10.0 (5%)",
}
failed = []
for where, cell in want.items():
    row = f"| {where} | {cell} |"
    if row not in out:
        failed.append(f"missing row {row!r}")
if "| **node CPU per message** | **200** |" not in out:
    failed.append("the node's CPU per message is not 200")
if "| rate (msg/s) | 100 |" not in out:
    failed.append("the rate is not 100")
if "<!-- bench/profile.sh: begin" not in doc or "verification (Ed25519" not in doc:
    failed.append("--docs did not write the block")
if failed:
    print(out)
    sys.exit("profile_report_test: " + "; ".join(failed))
print("profile_report_test: every category and figure as expected")
