// backlog_fill: puts N sealed 4 KiB envelopes straight into a stopped node's
// store, for the backlog benchmark (bench/backlog.sh). Going through the
// store rather than gRPC only makes filling a million-message queue fast;
// the messages are real envelopes, sealed and signed like trmctl's, queued
// for one recipient exactly as Submit would queue them.
//
//   backlog_fill --data-dir D --sign-key K --recipient-pub P
//                --from ORG@NODE --to ORG@NODE --count N [--size BYTES]
//                [--threads T]
#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/crypto/hash.h"
#include "common/crypto/key_files.h"
#include "common/envelope/envelope.h"
#include "server/storage/rocksdb_store.h"

int main(int argc, char** argv) {
  CLI::App app{"backlog_fill: fill a stopped node's queue for benchmarks"};
  std::string data_dir, sign_key, recipient_pub, from, to;
  size_t count = 1000000, size = 4096, threads = 64;
  app.add_option("--data-dir", data_dir)->required();
  app.add_option("--sign-key", sign_key)->required();
  app.add_option("--recipient-pub", recipient_pub)->required();
  app.add_option("--from", from)->required();
  app.add_option("--to", to)->required();
  app.add_option("--count", count);
  app.add_option("--size", size);
  app.add_option("--threads", threads,
                 "callers in flight (their accepts share fsyncs)");
  CLI11_PARSE(app, argc, argv);

  auto sign = trm::crypto::LoadSigningKey(sign_key);
  auto rcpt = trm::crypto::LoadEncryptionPublicKey(recipient_pub);
  if (!sign.ok() || !rcpt.ok()) {
    std::cerr << "backlog_fill: cannot load keys\n";
    return 2;
  }
  auto split = [](const std::string& a) {
    size_t at = a.find('@');
    return std::pair(a.substr(0, at), a.substr(at + 1));
  };
  // Named copies: a lambda cannot capture structured bindings (clang 14).
  const auto from_parts = split(from), to_parts = split(to);
  const std::string from_org = from_parts.first, from_node = from_parts.second;
  const std::string to_org = to_parts.first, to_node = to_parts.second;
  trm::storage::RocksStoreOptions options;
  options.path = data_dir;
  auto store = trm::storage::RocksMessageStore::Open(options);
  if (!store.ok()) {
    std::cerr << "backlog_fill: " << store.status().message() << "\n";
    return 2;
  }
  const std::string payload(size, 'p');
  const int64_t now = absl::ToUnixMillis(absl::Now());
  std::atomic<size_t> next{0}, failed{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < count; i = next++) {
        trm::v1::Header h;
        h.set_schema_version(1);
        h.set_message_id(trm::envelope::NewMessageId());
        h.set_case_ref("BACKLOG-" + std::to_string(i));
        h.set_type(trm::v1::MONITORING_REPORT);
        h.set_sender_org(from_org);
        h.set_sender_node(from_node);
        h.set_recipient_org(to_org);
        h.set_recipient_node(to_node);
        h.set_created_unix_ms(now);
        h.set_expires_unix_ms(now + 7 * 24 * 3600 * 1000LL);
        auto env = trm::envelope::Seal(h, trm::AsBytes(payload), *sign, *rcpt);
        if (!env.ok()) {
          ++failed;
          continue;
        }
        trm::storage::AcceptRequest req;
        req.message_id = h.message_id();
        req.sender_org = from_org;
        req.recipient_org = to_org;
        req.envelope = env->SerializeAsString();
        const auto digest = trm::crypto::Sha256({trm::AsBytes(req.envelope)});
        req.envelope_sha256.assign(digest.begin(), digest.end());
        req.expires_unix_ms = h.expires_unix_ms();
        req.now_unix_ms = now;
        if (!(*store)->Accept(req).ok()) ++failed;
      }
    });
  }
  for (auto& w : workers) w.join();
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  auto depth = (*store)->QueueDepth(to_org);
  std::printf(
      "backlog_fill: %zu messages in %.1f s, %zu failed, queue depth %llu\n",
      count - failed.load(), secs, failed.load(),
      static_cast<unsigned long long>(depth.ok() ? *depth : 0));
  return failed == 0 ? 0 : 1;
}
