// trm_load: drives a trm-broker node, for the crash test and benchmarks.
//
//   trm_load produce --node ADDR (--token-file F | --ca CA --cert C --key K)
//                    --sign-key K (--recipient-pub P --to ORG@NODE)...
//                    --from ORG@NODE --count N [--window W] [--rate R]
//                    [--size BYTES] [--log FILE] [--consume-token F...]
//                    [--consume-sign-key K...]
//   trm_load consume --node ADDR (--token-file F... | --ca CA --cert C
//                    --key K) --expect N [--log FILE]
//                    [--timeout-s S] [--sign-key K...]
//                    [--receive-many [--pipeline]]
//   trm_load stall --node ADDR (--token-file F | --ca ...) [--streams N]
//                  [--hold-s S]
//
// Each --to is one producer with its own channel and stream (count
// messages each, rate/producers each); each consumer token file is one
// consumer (expect messages each). With --consume-token, produce also runs
// a consumer per recipient and reports end-to-end latency (first submit ->
// first delivery) instead of submit-to-receipt latency (with
// --consume-sign-key, one per --consume-token, its acknowledgements are
// signed, for a node that requires it). Both print a
// "RESULT key=value ..." line for bench/compare.sh.
//
// produce seals N envelopes up front, then keeps W of them in flight on a
// SubmitStream until each has a receipt, reconnecting and resubmitting the
// unreceipted ones (same bytes, so the node deduplicates) whenever the node
// goes away. It appends "sent <id> <unix_us>" at a message's first send and
// "receipt <id>" per receipt to the log, and prints msg/s and
// submit-to-receipt latency percentiles.
// consume receives and acknowledges (AckMany, a batch per call) until it has
// acknowledged N distinct messages, logging "delivered <id> <attempt>
// <unix_us>" and
// "acked <id>", and counts any message delivered again after its
// acknowledgement returned (an undone acknowledgement). Exit 0 when its goal is
// met. With --sign-key each call carries the recipient's signed
// acknowledgements: one AcknowledgementBatch over the call's messages (the
// client library's AcknowledgeMany), or with --ack-each one signature per
// message as before batches; give one key per --token-file, in the same
// order, or one for all. With --receive-many --pipeline it acknowledges
// each batch on another thread while it receives the next (one AckMany in
// flight), as a consumer with prefetch does (bench/peers/rmqload.c
// acknowledges RabbitMQ's deliveries the same way).
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/bytes.h"
#include "common/process/mutex_checks.h"
#include "common/status.h"
#include "trm/client/client.h"
#include "trm/v1/case.pb.h"
#include "trm/v1/mailbox.grpc.pb.h"

namespace trm::load {
namespace {

using Clock = std::chrono::steady_clock;

struct Common {
  std::string node, token_file, log;
  std::string ca, cert, key;  // mutual TLS instead of a token
};

// User and system CPU time of this process so far, in microseconds.
double CpuMicros() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec +
         u.ru_stime.tv_usec;
}

// A connection of its own to the node (the client library's): mutual TLS,
// or the development token in `token_file`. Reconnects within 200 ms of the
// node coming back.
std::unique_ptr<client::Client> Connect(const Common& c,
                                        const std::string& token_file,
                                        client::Identity me = {}) {
  client::Profile p;
  p.connect.address = c.node;
  p.connect.ca_file = c.ca;
  p.connect.cert_file = c.cert;
  p.connect.key_file = c.key;
  if (c.ca.empty()) p.connect.dev_token_file = token_file;
  p.connect.max_reconnect_backoff = absl::Milliseconds(200);
  p.identity = std::move(me);
  absl::StatusOr<std::unique_ptr<client::Client>> cl =
      client::Client::Connect(p);
  if (!cl.ok()) {
    std::fprintf(stderr, "trm_load: %s\n",
                 std::string(cl.status().message()).c_str());
    std::exit(2);
  }
  return std::move(*cl);
}

// Wall-clock microseconds: comparable between the producer's and the
// consumer's logs on one machine (end-to-end latency across nodes).
int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct ProduceFlags {
  std::string sign_key, from;
  // One producer (its own connection and stream) per recipient.
  std::vector<std::string> recipient_pub, to;
  size_t count = 1000, window = 64, size = 4096;
  // Envelopes per SubmitBatches message; 0: SubmitStream, one per message.
  size_t batch = 0;
  double rate = 0;  // messages per second; 0 = as fast as the window allows
  // Consumers to run during the produce run (end-to-end latency), one per
  // token file: each receives its queue's `count` messages.
  std::vector<std::string> consume_tokens;
  std::vector<std::string> consume_sign_keys;  // one per consume token
};

// What one producer lane measured.
struct LaneResult {
  size_t done = 0, reconnects = 0, refused = 0;
  std::vector<double> latency_us;
};

// Message id (raw bytes) -> its first send time, for consumers in this
// process to measure end-to-end latency. Filled before sending.
struct SendTimes {
  absl::Mutex mu;
  absl::flat_hash_map<std::string, Clock::time_point> at ABSL_GUARDED_BY(mu);
};

// Seals `count` envelopes from the client's organisation to `to`, sealed to
// the key in `recipient_pub`.
absl::StatusOr<std::vector<std::string>> SealAll(
    const ProduceFlags& f, const client::Client& sender,
    const std::string& recipient_pub, const std::string& to, size_t lane,
    std::vector<std::string>& raw_ids) {
  const size_t at = to.find('@');
  std::vector<std::string> wires(f.count);
  raw_ids.resize(f.count);
  client::Message m;
  // Each message opens its own case: the consent its owner records, the
  // first step the case rules allow without any before it.
  m.type = v1::CONSENT_RECORD;
  m.recipient_org = to.substr(0, at);
  m.recipient_node = at == std::string::npos ? "" : to.substr(at + 1);
  m.recipient_pub_file = recipient_pub;
  m.expires_in = absl::Hours(24);
  // A granted consent (the header's outcome and consent reference are taken
  // from it), padded in its purpose to f.size bytes.
  v1::ConsentRecord consent;
  consent.set_granted(true);
  consent.set_consent_ref("LOAD");
  const size_t bare = consent.ByteSizeLong() + 3;  // + purpose's tag, length
  consent.set_purpose(std::string(f.size > bare ? f.size - bare : 0, 'p'));
  m.payload = consent.SerializeAsString();
  for (size_t i = 0; i < f.count; ++i) {
    m.case_ref = "LOAD-" + std::to_string(lane) + "-" + std::to_string(i);
    ASSIGN_OR_RETURN(client::Sealed sealed, sender.Seal(m));
    wires[i] = std::move(sealed.envelope);
    raw_ids[i] = sealed.header.message_id();
  }
  return wires;
}

// A submitting stream: SubmitStream (one envelope per stream message) or
// SubmitBatches (a batch per stream message).
class Submitter {
 public:
  virtual ~Submitter() = default;
  // Sends `requests` (one stream message each, or one batch).
  virtual bool Send(std::vector<v1::SubmitRequest>& requests) = 0;
  // The next answers: one, or a batch's.
  virtual bool Receive(std::vector<v1::SubmitResponse>& out) = 0;
  virtual grpc::Status Close() = 0;
};

class StreamSubmitter : public Submitter {
 public:
  StreamSubmitter(v1::Mailbox::Stub& stub, grpc::ClientContext& ctx)
      : stream_(stub.SubmitStream(&ctx)) {}
  bool Send(std::vector<v1::SubmitRequest>& requests) override {
    for (const v1::SubmitRequest& r : requests) {
      if (!stream_->Write(r)) return false;
    }
    return true;
  }
  bool Receive(std::vector<v1::SubmitResponse>& out) override {
    out.resize(1);
    return stream_->Read(&out[0]);
  }
  grpc::Status Close() override {
    stream_->WritesDone();
    return stream_->Finish();
  }

 private:
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::SubmitRequest, v1::SubmitResponse>>
      stream_;
};

class BatchSubmitter : public Submitter {
 public:
  BatchSubmitter(v1::Mailbox::Stub& stub, grpc::ClientContext& ctx)
      : stream_(stub.SubmitBatches(&ctx)) {}
  bool Send(std::vector<v1::SubmitRequest>& requests) override {
    v1::SubmitBatch batch;
    for (v1::SubmitRequest& r : requests) {
      *batch.add_requests() = std::move(r);
    }
    return stream_->Write(batch);
  }
  bool Receive(std::vector<v1::SubmitResponse>& out) override {
    v1::SubmitBatchResult result;
    if (!stream_->Read(&result)) return false;
    out.assign(std::make_move_iterator(result.mutable_responses()->begin()),
               std::make_move_iterator(result.mutable_responses()->end()));
    return true;
  }
  grpc::Status Close() override {
    stream_->WritesDone();
    return stream_->Finish();
  }

 private:
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::SubmitBatch, v1::SubmitBatchResult>>
      stream_;
};

constexpr size_t kMaxBatchBytes = 4 << 20;

// One producer: keeps f.window envelopes in flight on a SubmitStream of its
// own channel until each has a receipt, reconnecting and resubmitting the
// unreceipted ones (same bytes, so the node deduplicates).
LaneResult ProduceLane(const Common& c, const ProduceFlags& f,
                       const std::string& token_file,
                       const std::vector<std::string>& wires,
                       const std::vector<std::string>& raw_ids,
                       Clock::time_point start, double rate, std::ofstream& log,
                       absl::Mutex& log_mu, SendTimes* send_times) {
  LaneResult out;
  const size_t count = wires.size();
  std::vector<bool> receipted(count, false);
  std::vector<Clock::time_point> sent_at(count);
  std::vector<bool> first_sent(count, false);
  out.latency_us.reserve(count);
  size_t next = 0;
  std::vector<size_t> retry;  // in flight when a stream broke
  std::unique_ptr<client::Client> cl = Connect(c, token_file);
  auto stub = v1::Mailbox::NewStub(cl->channel());
  while (out.done < count) {
    grpc::ClientContext ctx;
    cl->Prepare(&ctx, absl::Hours(1));
    ctx.set_wait_for_ready(true);
    std::unique_ptr<Submitter> stream;
    if (f.batch > 0) {
      stream = std::make_unique<BatchSubmitter>(*stub, ctx);
    } else {
      stream = std::make_unique<StreamSubmitter>(*stub, ctx);
    }
    absl::flat_hash_set<size_t> in_flight;
    bool broken = false;
    std::vector<v1::SubmitRequest> pending;
    std::vector<size_t> pending_index;
    size_t pending_bytes = 0;
    auto flush = [&] {
      if (pending.empty()) return;
      if (!stream->Send(pending)) {
        broken = true;
        retry.insert(retry.end(), pending_index.begin(), pending_index.end());
      } else {
        in_flight.insert(pending_index.begin(), pending_index.end());
      }
      pending.clear();
      pending_index.clear();
      pending_bytes = 0;
    };
    auto send_one = [&](size_t i) {
      v1::SubmitRequest req;
      req.set_envelope(wires[i]);
      req.set_correlation(i);
      sent_at[i] = Clock::now();
      if (!first_sent[i]) {
        first_sent[i] = true;
        if (send_times != nullptr) {
          absl::MutexLock lock(&send_times->mu);
          send_times->at[raw_ids[i]] = sent_at[i];
        }
        absl::MutexLock lock(&log_mu);
        log << "sent " << HexEncode(AsBytes(raw_ids[i])) << " " << WallMicros()
            << "\n";
      }
      // A batch stays under the node's message limit (4 MiB of envelopes,
      // or one larger envelope alone).
      if (!pending.empty() &&
          pending_bytes + wires[i].size() > kMaxBatchBytes) {
        flush();
      }
      pending_bytes += wires[i].size();
      pending.push_back(std::move(req));
      pending_index.push_back(i);
      if (pending.size() >= std::max<size_t>(1, f.batch)) flush();
    };
    while (!broken && (out.done < count)) {
      while (!broken && in_flight.size() + pending.size() < f.window &&
             (!retry.empty() || next < count)) {
        size_t i;
        if (!retry.empty()) {
          i = retry.back();
          retry.pop_back();
        } else {
          if (rate > 0) {
            const auto due =
                start + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(next / rate));
            if (Clock::now() < due) {
              flush();
              if (!in_flight.empty()) break;  // collect answers meanwhile
              std::this_thread::sleep_until(due);
            }
          }
          i = next++;
        }
        if (!receipted[i]) send_one(i);
      }
      flush();
      if (broken || in_flight.empty()) break;
      std::vector<v1::SubmitResponse> answers;
      if (!stream->Receive(answers)) {
        broken = true;
        break;
      }
      for (const v1::SubmitResponse& resp : answers) {
        const size_t i = resp.correlation();
        in_flight.erase(i);
        if (resp.error_code() != 0) {
          // UNAVAILABLE (shutting down) is retried; anything else is a bug in
          // this tool's input and is counted.
          if (resp.error_code() == grpc::StatusCode::UNAVAILABLE) {
            retry.push_back(i);
          } else {
            ++out.refused;
            std::cerr << "trm_load: refused: " << resp.error_message() << "\n";
            receipted[i] = true;
            ++out.done;
          }
          continue;
        }
        if (!receipted[i]) {
          receipted[i] = true;
          ++out.done;
          out.latency_us.push_back(std::chrono::duration<double, std::micro>(
                                       Clock::now() - sent_at[i])
                                       .count());
          absl::MutexLock lock(&log_mu);
          log << "receipt " << HexEncode(AsBytes(raw_ids[i])) << "\n";
        }
      }
    }
    if (out.done < count) {
      // The node went away (try again), or refused the whole stream (stop).
      const grpc::Status closed = stream->Close();
      if (closed.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
          closed.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
          closed.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
          closed.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
          closed.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
        std::cerr << "trm_load: the node refused the stream: "
                  << closed.error_message() << "\n";
        out.refused += count - out.done;
        out.done = count;
        return out;
      }
      ++out.reconnects;
      for (size_t i : in_flight) retry.push_back(i);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } else {
      stream->Close();
    }
  }
  return out;
}

double Percentile(const std::vector<double>& sorted, double p) {
  return sorted.empty()
             ? 0.0
             : sorted[std::min(sorted.size() - 1,
                               static_cast<size_t>(p * sorted.size()))];
}

struct ConsumeFlags {
  size_t expect = 0;
  int timeout_s = 300;
  std::string sign_key;
  bool receive_many = false;  // ReceiveMany (one answer) instead of Receive
  bool ack_each = false;      // one signature per acknowledgement
  bool pipeline = false;      // receive the next batch while acknowledging
};
struct ConsumeResult {
  size_t acked = 0, deliveries = 0, undone = 0, failures = 0;
};
ConsumeResult ConsumeQueue(
    const Common& c, const ConsumeFlags& f, const std::string& token_file,
    const std::function<void(const std::string& raw_id)>& on_first_delivery);

int Produce(const Common& c, const ProduceFlags& f) {
  if (f.to.size() != f.recipient_pub.size() || f.to.empty() ||
      (!f.consume_tokens.empty() && f.consume_tokens.size() != f.to.size()) ||
      (!f.consume_sign_keys.empty() &&
       f.consume_sign_keys.size() != f.consume_tokens.size())) {
    std::cerr << "trm_load: give one --recipient-pub (and one "
                 "--consume-token and --consume-sign-key, if any) per --to\n";
    return 2;
  }
  const size_t lanes = f.to.size();
  const size_t at = f.from.find('@');
  if (at == std::string::npos) {
    std::cerr << "trm_load: --from is ORG@NODE\n";
    return 2;
  }
  client::Identity me;
  me.org = f.from.substr(0, at);
  me.node = f.from.substr(at + 1);
  me.sign_key_file = f.sign_key;
  std::unique_ptr<client::Client> sender = Connect(c, c.token_file, me);
  // Seal everything first: the measured part is the node, not the client.
  std::vector<std::vector<std::string>> wires(lanes), ids(lanes);
  for (size_t l = 0; l < lanes; ++l) {
    auto sealed = SealAll(f, *sender, f.recipient_pub[l], f.to[l], l, ids[l]);
    if (!sealed.ok()) {
      std::cerr << "trm_load: " << sealed.status().message() << "\n";
      return 2;
    }
    wires[l] = std::move(*sealed);
  }
  const double sealing_cpu = CpuMicros();
  std::ofstream log(c.log.empty() ? "/dev/null" : c.log, std::ios::app);
  absl::Mutex log_mu;
  SendTimes send_times;
  const bool e2e = !f.consume_tokens.empty();
  std::vector<LaneResult> results(lanes);
  std::vector<ConsumeResult> consumed(lanes);
  absl::Mutex e2e_mu;
  std::vector<double> e2e_us;
  const auto start = Clock::now();
  {
    std::vector<std::thread> threads;
    for (size_t l = 0; l < lanes; ++l) {
      threads.emplace_back([&, l] {
        results[l] = ProduceLane(c, f, c.token_file, wires[l], ids[l], start,
                                 f.rate / lanes, log, log_mu,
                                 e2e ? &send_times : nullptr);
      });
      if (!e2e) continue;
      threads.emplace_back([&, l] {
        ConsumeFlags cf;
        cf.expect = f.count;
        cf.timeout_s = 600;
        cf.receive_many = f.batch > 0;
        if (!f.consume_sign_keys.empty()) cf.sign_key = f.consume_sign_keys[l];
        consumed[l] = ConsumeQueue(
            c, cf, f.consume_tokens[l], [&](const std::string& raw_id) {
              const auto now = Clock::now();
              Clock::time_point at;
              {
                absl::MutexLock lock(&send_times.mu);
                auto it = send_times.at.find(raw_id);
                if (it == send_times.at.end()) return;
                at = it->second;
              }
              absl::MutexLock lock(&e2e_mu);
              e2e_us.push_back(
                  std::chrono::duration<double, std::micro>(now - at).count());
            });
      });
    }
    for (std::thread& t : threads) t.join();
  }
  log.flush();
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();
  size_t done = 0, reconnects = 0, refused = 0, acked = 0;
  std::vector<double> latency_us;
  for (LaneResult& r : results) {
    done += r.done;
    reconnects += r.reconnects;
    refused += r.refused;
    latency_us.insert(latency_us.end(), r.latency_us.begin(),
                      r.latency_us.end());
  }
  for (const ConsumeResult& r : consumed) acked += r.acked;
  std::sort(latency_us.begin(), latency_us.end());
  std::sort(e2e_us.begin(), e2e_us.end());
  const std::vector<double>& lat = e2e ? e2e_us : latency_us;
  std::printf(
      "produce: %zu receipts in %.2f s = %.0f msg/s, latency p50 %.0f us p99 "
      "%.0f us p99.9 %.0f us, %zu reconnects, %zu refused, client CPU %.0f "
      "us/msg (sealing included)\n",
      done, secs, done / secs, Percentile(latency_us, 0.5),
      Percentile(latency_us, 0.99), Percentile(latency_us, 0.999), reconnects,
      refused, CpuMicros() / std::max<size_t>(1, done));
  std::printf(
      "RESULT mode=%s producers=%zu size=%zu window=%zu rate=%.0f errors=%zu "
      "n=%zu secs=%.3f msgps=%.0f p50_us=%.0f p99_us=%.0f p999_us=%.0f "
      "client_cpu_us=%.0f\n",
      e2e ? "paced" : "publish", lanes, f.size, f.window, f.rate,
      refused + (e2e && acked < lanes * f.count ? lanes * f.count - acked : 0),
      done, secs, done / secs, Percentile(lat, 0.5), Percentile(lat, 0.99),
      Percentile(lat, 0.999),
      (CpuMicros() - sealing_cpu) / std::max<size_t>(1, done));
  return refused == 0 && (!e2e || acked == lanes * f.count) ? 0 : 1;
}

ConsumeResult ConsumeQueue(
    const Common& c, const ConsumeFlags& f, const std::string& token_file,
    const std::function<void(const std::string& raw_id)>& on_first_delivery) {
  std::ofstream log(c.log.empty() ? "/dev/null" : c.log, std::ios::app);
  absl::flat_hash_set<std::string> acked;
  size_t deliveries = 0, undone = 0, failures = 0;
  // With --sign-key, the client signs each acknowledgement (the recipient
  // organisation is the one each envelope names).
  client::Identity me;
  me.sign_key_file = f.sign_key;
  std::unique_ptr<client::Client> cl = Connect(c, token_file, me);
  auto stub = v1::Mailbox::NewStub(cl->channel());
  const bool sign = !f.sign_key.empty();
  // Message id -> its delivery, until acknowledged (with --sign-key), and
  // with --ack-each its own signed acknowledgement.
  absl::flat_hash_map<std::string, client::Delivery> held;
  absl::flat_hash_map<std::string, std::string> signed_acks;
  auto hold = [&](const v1::Delivery& d) {
    if (!sign || held.contains(d.message_id())) return;
    client::Delivery got = client::ToDelivery(d);
    if (f.ack_each) {
      auto ack = cl->SignAcknowledgement(got);
      if (ack.ok()) signed_acks[d.message_id()] = std::move(*ack);
    }
    held.emplace(d.message_id(), std::move(got));
  };
  const auto deadline = Clock::now() + std::chrono::seconds(f.timeout_s);
  // The first acknowledgement the node refused for good (it ends the run).
  std::string refused;
  // Acknowledgements whose answer was lost: acknowledging is idempotent, so
  // they are simply sent again until one answer arrives.
  std::vector<std::string> unconfirmed;
  // Many at once: one call and one durable write for a whole batch. A call
  // is prepared and its answer applied on this thread; the call itself may
  // run on another (--pipeline), touching only its own AckCall.
  struct AckCall {
    v1::AckManyRequest req;
    std::vector<client::Delivery> batch;  // signed as one batch
    bool lost = false;
    std::string usage;  // the client refused the batch (USAGE)
    v1::AckManyResponse resp;
  };
  auto prepare_ack =
      [&](const std::vector<std::string>& ids) -> std::unique_ptr<AckCall> {
    auto call = std::make_unique<AckCall>();
    for (const std::string& id : ids) {
      // One already confirmed (its answer came in an earlier call, and the
      // message was delivered again meanwhile) needs nothing more.
      if (acked.contains(HexEncode(AsBytes(id)))) continue;
      call->req.add_message_ids(id);
      if (sign && f.ack_each) {
        auto it = signed_acks.find(id);
        call->req.add_acknowledgements(it == signed_acks.end() ? ""
                                                               : it->second);
      } else if (sign) {
        call->batch.push_back(held.at(id));
      }
    }
    if (call->req.message_ids().empty()) return nullptr;
    return call;
  };
  auto run_ack = [&cl, &stub](AckCall& call) {
    if (!call.batch.empty()) {
      // As an integrator would: the client library signs the batch once.
      absl::StatusOr<std::vector<absl::Status>> results =
          cl->AcknowledgeMany(call.batch);
      if (!results.ok()) {
        if (ErrorReason(results.status()) == "USAGE") {
          call.usage = results.status().ToString();
        } else {
          call.lost = true;
        }
        return;
      }
      for (size_t i = 0; i < results->size(); ++i) {
        v1::AckResult* r = call.resp.add_results();
        r->set_message_id(call.batch[i].message_id);
        const absl::Status& st = (*results)[i];
        r->set_error_code(static_cast<int>(st.code()));
        r->set_error_reason(ErrorReason(st));
        r->set_error_message(std::string(st.message()));
      }
      return;
    }
    grpc::ClientContext ack_ctx;
    cl->Prepare(&ack_ctx, absl::Seconds(5));
    if (!stub->AckMany(&ack_ctx, call.req, &call.resp).ok() ||
        call.resp.results_size() != call.req.message_ids_size()) {
      call.lost = true;
    }
  };
  auto apply_ack = [&](AckCall& call) {
    if (!call.usage.empty()) {
      refused = call.usage;
      return;
    }
    if (call.lost) {
      ++failures;
      unconfirmed.insert(unconfirmed.end(), call.req.message_ids().begin(),
                         call.req.message_ids().end());
      return;
    }
    for (const v1::AckResult& r : call.resp.results()) {
      if (absl::StartsWith(r.error_reason(), "ACKNOWLEDGEMENT_")) {
        // Sending it again cannot help (unsigned where the node requires a
        // signature, or a bad one): stop and say so.
        // The message already begins with the reason token.
        if (refused.empty()) refused = r.error_message();
        continue;
      }
      if (r.error_code() != 0) {
        ++failures;
        unconfirmed.push_back(r.message_id());
        continue;
      }
      signed_acks.erase(r.message_id());
      held.erase(r.message_id());
      const std::string id = HexEncode(AsBytes(r.message_id()));
      if (acked.insert(id).second) log << "acked " << id << "\n";
    }
  };
  auto ack_many = [&](const std::vector<std::string>& ids) {
    std::unique_ptr<AckCall> call = prepare_ack(ids);
    if (call == nullptr) return;
    run_ack(*call);
    apply_ack(*call);
  };
  // --pipeline: at most one acknowledgement call in flight, on its own
  // thread, while the next batch is received (RabbitMQ's consumer in
  // bench/peers acknowledges the same way, with prefetch).
  std::unique_ptr<AckCall> in_flight;
  std::thread ack_thread;
  auto finish_in_flight = [&] {
    if (in_flight == nullptr) return;
    ack_thread.join();
    apply_ack(*in_flight);
    in_flight.reset();
  };
  auto ack_behind = [&](const std::vector<std::string>& ids) {
    finish_in_flight();
    in_flight = prepare_ack(ids);
    if (in_flight == nullptr) return;
    ack_thread =
        std::thread([&run_ack, call = in_flight.get()] { run_ack(*call); });
  };
  while (acked.size() < f.expect && Clock::now() < deadline &&
         refused.empty()) {
    std::vector<std::string> again;
    again.swap(unconfirmed);
    ack_many(again);
    grpc::ClientContext ctx;
    cl->Prepare(&ctx, absl::Seconds(10));
    ctx.set_wait_for_ready(true);
    v1::ReceiveRequest req;
    req.set_max_messages(256);
    req.set_wait_ms(500);
    std::vector<std::string> batch;
    auto deliver = [&](const v1::Delivery& d) {
      ++deliveries;
      const std::string id = HexEncode(AsBytes(d.message_id()));
      log << "delivered " << id << " " << d.attempt() << " " << WallMicros()
          << "\n";
      if (acked.contains(id)) ++undone;  // acknowledged, yet back
      if (d.attempt() == 1 && on_first_delivery)
        on_first_delivery(d.message_id());
      hold(d);
      batch.push_back(d.message_id());
    };
    grpc::Status got;
    if (f.receive_many) {
      v1::Deliveries all;
      got = stub->ReceiveMany(&ctx, req, &all);
      for (const v1::Delivery& d : all.deliveries()) deliver(d);
    } else {
      auto reader = stub->Receive(&ctx, req);
      v1::Delivery d;
      while (reader->Read(&d)) {
        deliver(d);
        // The stream sends more only as deliveries are settled (its window
        // of 16): acknowledge as it goes.
        if (batch.size() >= 8) {
          ack_many(batch);
          batch.clear();
        }
      }
      got = reader->Finish();
    }
    if (!got.ok()) {
      ++failures;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (f.pipeline) {  // with --receive-many (the flag needs it)
      ack_behind(batch);
      // With every expected message in hand (or none this time), wait for
      // the answer rather than for more deliveries.
      const size_t pending =
          in_flight == nullptr ? 0 : in_flight->req.message_ids_size();
      if (batch.empty() || acked.size() + pending >= f.expect) {
        finish_in_flight();
      }
    } else {
      ack_many(batch);
    }
    log.flush();
  }
  finish_in_flight();
  if (!refused.empty()) {
    std::cerr << "trm_load: the node refused an acknowledgement: " << refused
              << "\n";
  }
  return ConsumeResult{acked.size(), deliveries, undone, failures};
}

// One consumer per token file (--token-file, repeated), each until it has
// acknowledged --expect messages.
int Consume(const Common& c, const std::vector<std::string>& token_files,
            const std::vector<std::string>& sign_keys, const ConsumeFlags& f) {
  std::vector<ConsumeResult> results(std::max<size_t>(1, token_files.size()));
  if (sign_keys.size() > 1 && sign_keys.size() != results.size()) {
    std::cerr << "trm_load: give one --sign-key per --token-file, or one\n";
    return 2;
  }
  const auto start = Clock::now();
  {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < results.size(); ++i) {
      threads.emplace_back([&, i] {
        ConsumeFlags mine = f;
        if (!sign_keys.empty()) {
          mine.sign_key = sign_keys[sign_keys.size() == 1 ? 0 : i];
        }
        results[i] = ConsumeQueue(
            c, mine, token_files.empty() ? "" : token_files[i], nullptr);
      });
    }
    for (std::thread& t : threads) t.join();
  }
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();
  ConsumeResult all;
  for (const ConsumeResult& r : results) {
    all.acked += r.acked;
    all.deliveries += r.deliveries;
    all.undone += r.undone;
    all.failures += r.failures;
  }
  const size_t expect = f.expect * results.size();
  std::printf(
      "consume: %zu distinct acknowledged of %zu expected, %zu deliveries "
      "(%zu redeliveries), %zu acknowledgements undone, %zu failed calls, "
      "client CPU %.0f us/msg, %.2f s\n",
      all.acked, expect, all.deliveries, all.deliveries - all.acked, all.undone,
      all.failures, CpuMicros() / std::max<size_t>(1, all.acked), secs);
  std::printf(
      "RESULT mode=drain producers=%zu errors=%zu n=%zu secs=%.3f "
      "msgps=%.0f\n",
      results.size(), expect - std::min(expect, all.acked) + all.undone,
      all.acked, secs, all.acked / secs);
  return all.acked >= expect && all.undone == 0 ? 0 : 1;
}

// The slow consumer of issue 15 section 3: `streams` Receive streams, each
// on its own connection, each reads one delivery and then stops reading,
// until the node ends it (its stall deadline) or `hold_s` pass. Prints,
// per stream, how it ended.
int Stall(const Common& c, size_t streams, int hold_s) {
  std::vector<std::string> ended(streams);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (size_t i = 0; i < streams; ++i) {
    threads.emplace_back([&, i] {
      std::unique_ptr<client::Client> cl = Connect(c, c.token_file);
      auto stub = v1::Mailbox::NewStub(cl->channel());
      grpc::ClientContext ctx;
      cl->Prepare(&ctx, absl::Seconds(hold_s));
      v1::ReceiveRequest req;
      req.set_max_messages(100000);
      auto reader = stub->Receive(&ctx, req);
      v1::Delivery d;
      if (!reader->Read(&d)) {
        ended[i] = "no delivery: " + reader->Finish().error_message();
        return;
      }
      std::printf("stall: stream %zu read one delivery and stops reading\n", i);
      std::fflush(stdout);
      // Not reading: gRPC reads only when asked, so the node's writes fill
      // the transport's buffers and then block. Finish waits for the end.
      const grpc::Status s = reader->Finish();
      ended[i] = absl::StrCat(
          "ended after ",
          std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start)
              .count(),
          " s: ", s.ok() ? "OK" : s.error_message());
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < streams; ++i) {
    std::printf("stall: stream %zu %s\n", i, ended[i].c_str());
  }
  return 0;
}

}  // namespace
}  // namespace trm::load

int main(int argc, char** argv) {
  trm::process::ConfigureMutexChecks();
  CLI::App app{"trm_load: load and crash-test driver for trm-broker"};
  app.require_subcommand(1);
  trm::load::Common c;
  trm::load::ProduceFlags pf;
  trm::load::ConsumeFlags cf;
  auto common = [&](CLI::App* cmd) {
    cmd->add_option("--node", c.node)->required();
    cmd->add_option("--token-file", c.token_file, "with a plaintext node");
    cmd->add_option("--ca", c.ca, "federation CA (mutual TLS)");
    cmd->add_option("--cert", c.cert, "organisation certificate");
    cmd->add_option("--key", c.key, "its key");
    cmd->add_option("--log", c.log);
  };
  CLI::App* produce = app.add_subcommand("produce", "submit envelopes");
  common(produce);
  produce->add_option("--sign-key", pf.sign_key)->required();
  produce
      ->add_option("--recipient-pub", pf.recipient_pub,
                   "one per --to, in the same order")
      ->required();
  produce->add_option("--from", pf.from)->required();
  produce
      ->add_option("--to", pf.to,
                   "ORG@NODE; repeat for one producer per recipient")
      ->required();
  produce->add_option("--consume-token", pf.consume_tokens,
                      "one per --to: also receive and acknowledge, for "
                      "end-to-end latency");
  produce->add_option("--consume-sign-key", pf.consume_sign_keys,
                      "one per --consume-token: sign its acknowledgements "
                      "with this key");
  produce->add_option("--count", pf.count);
  produce->add_option("--window", pf.window);
  produce->add_option("--size", pf.size);
  produce->add_option("--batch", pf.batch,
                      "envelopes per SubmitBatches message (0: SubmitStream, "
                      "one per message)");
  produce->add_option("--rate", pf.rate, "messages per second (0: unpaced)");
  CLI::App* consume = app.add_subcommand("consume", "receive and ack");
  std::vector<std::string> consume_tokens;
  consume->add_option("--node", c.node)->required();
  consume->add_option("--token-file", consume_tokens,
                      "with a plaintext node; repeat for one consumer each");
  consume->add_option("--ca", c.ca, "federation CA (mutual TLS)");
  consume->add_option("--cert", c.cert, "organisation certificate");
  consume->add_option("--key", c.key, "its key");
  consume->add_option("--log", c.log);
  consume->add_option("--expect", cf.expect)->required();
  consume->add_option("--timeout-s", cf.timeout_s);
  CLI::Option* receive_many =
      consume->add_flag("--receive-many", cf.receive_many,
                        "ReceiveMany (one answer per call) instead of the "
                        "Receive stream");
  consume->add_flag("--ack-each", cf.ack_each,
                    "with --sign-key: one signature per acknowledgement "
                    "instead of one per AckMany call");
  consume
      ->add_flag("--pipeline", cf.pipeline,
                 "with --receive-many: acknowledge each batch while the "
                 "next is received (one AckMany in flight), as a "
                 "consumer with prefetch does")
      ->needs(receive_many);
  std::vector<std::string> consume_sign_keys;
  consume->add_option("--sign-key", consume_sign_keys,
                      "sign each acknowledgement with this key (repeat: one "
                      "per --token-file)");
  CLI::App* stall = app.add_subcommand(
      "stall", "Receive streams that read one delivery and stop reading");
  common(stall);
  size_t stall_streams = 3;
  int stall_hold_s = 120;
  stall->add_option("--streams", stall_streams);
  stall->add_option("--hold-s", stall_hold_s,
                    "give up after this long if the node never ends them");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (*produce) return trm::load::Produce(c, pf);
  if (*stall) return trm::load::Stall(c, stall_streams, stall_hold_s);
  return trm::load::Consume(c, consume_tokens, consume_sign_keys, cf);
}
