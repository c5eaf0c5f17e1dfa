// trm-broker: a national node.
//
//   trm-broker --config node.json [--listen ADDR] [--data-dir DIR]
//              [--insecure-dev]
//
// Until mutual TLS arrives with federation, the node serves plaintext gRPC
// only with --insecure-dev and only on a loopback address. SIGTERM or SIGINT
// stops it gracefully: no new calls, in-flight writes finish, RocksDB closes
// cleanly. SIGHUP reloads the federation directory (so does a change to its
// file). docs/operations.md is the operator's guide.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/crypto/key_files.h"
#include "common/log.h"
#include "common/process/mutex_checks.h"
#include "common/process/thread_name.h"
#include "common/status.h"
#include "server/admin/admin_service.h"
#include "server/audit/audit_service.h"
#include "server/auth/caller_auth.h"
#include "server/cases/case_service.h"
#include "server/cases/deadline_scheduler.h"
#include "server/cases/policy_book.h"
#include "server/config/node_config.h"
#include "server/federation/directory_alarm.h"
#ifdef TRM_TEST_CLOCK
#include "server/process/offset_file_clock.h"
#endif
#include "server/federation/directory_loader.h"
#include "server/federation/federation_service.h"
#include "server/federation/relay_runner.h"
#include "server/mailbox/mailbox.h"
#include "server/mailbox/mailbox_service.h"
#include "server/metrics/metrics.h"
#include "server/process/allocator.h"
#include "server/rpc/unparseable_request.h"
#include "server/storage/rocksdb_store.h"

namespace trm {
namespace {

// The node's clock: the wall clock, or in the test build
// (trm-broker-testclock) the wall clock moved by TRM_TEST_CLOCK_FILE.
const Clock& NodeClock() {
#ifdef TRM_TEST_CLOCK
  static const Clock* clock = [] {
    const char* file = std::getenv("TRM_TEST_CLOCK_FILE");
    log::Warn(
        "node.test_clock",
        absl::StrCat("TEST BUILD: this node's time is the wall clock "
                     "plus the seconds in ",
                     file == nullptr ? "(TRM_TEST_CLOCK_FILE not set)" : file,
                     "; never run it in production"));
    return new process::OffsetFileClock(file == nullptr ? "" : file);
  }();
  return *clock;
#else
  return SystemClock::Get();
#endif
}

struct Flags {
  std::string config, listen, data_dir;
  bool insecure_dev = false;
  bool no_audit_log = false;          // benchmarks only
  bool no_verify_signatures = false;  // benchmarks only
  bool verify_audit = false;
  bool check_config = false;
  std::string restore;  // a backup directory to restore into data_dir
};

// "version 3", or "none (each node's own case_rules)".
std::string PolicyName(const v1::Directory& dir) {
  if (dir.policy().version() == 0) return "none (this node's case_rules)";
  return absl::StrCat("version ", dir.policy().version());
}

int Fail(const absl::Status& status) {
  log::Error("node.error", status.message());
  return 1;
}

// --check-config: every file the configuration names is readable and
// consistent, and this node is in the directory; nothing is started.
int CheckConfig(const config::NodeConfig& cfg,
                const mailbox::OrgRegistry& registry) {
  // The directory loader has checked the directory, and that it lists this
  // node.
  const directory::Directory& dir = *registry.directory();
  for (const std::string& f : {cfg.tls_ca, cfg.tls_cert, cfg.tls_key}) {
    if (f.empty()) continue;
    std::ifstream in(f);
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in || pem.str().find("-----BEGIN") == std::string::npos) {
      return Fail(Error(absl::StatusCode::kFailedPrecondition, "CONFIG_INVALID",
                        absl::StrCat(f,
                                     " is not a readable PEM file (tls); "
                                     "make it with deploy/pki/make-pki.sh")));
    }
  }
  int orgs = 0;
  for (const v1::DirectoryOrganisation& o : dir.doc().organisations()) {
    orgs += o.home_node() == cfg.node_id;
  }
  std::printf(
      "trm-broker: configuration OK: node %s, listen %s, data %s, directory "
      "%s serial %llu (%d organisations on this node), %s, case rules %s, "
      "federation policy %s\n",
      cfg.node_id.c_str(), cfg.listen.c_str(), cfg.data_dir.c_str(),
      dir.doc().federation().c_str(),
      static_cast<unsigned long long>(dir.serial()), orgs,
      cfg.tls_ca.empty() ? "no TLS (--insecure-dev only)" : "mutual TLS",
      cfg.case_rules ? "on" : "OFF", PolicyName(dir.doc()).c_str());
  return 0;
}

int Run(const Flags& flags) {
  absl::StatusOr<config::NodeConfig> cfg = config::LoadNodeConfig(flags.config);
  if (!cfg.ok()) return Fail(cfg.status());
  log::SetFormat(cfg->log_format == "json" ? log::Format::kJson
                                           : log::Format::kText);
  log::SetMessageLogging(cfg->log_messages);
  if (!flags.listen.empty()) cfg->listen = flags.listen;
  if (!flags.data_dir.empty()) cfg->data_dir = flags.data_dir;
  const Clock& clock = NodeClock();
  const bool tls = !cfg->tls_ca.empty();
  if (tls && flags.insecure_dev) {
    return Fail(Error(absl::StatusCode::kInvalidArgument, "TLS_CONFIG_INVALID",
                      "--insecure-dev and a \"tls\" configuration exclude "
                      "each other; drop one"));
  }
  if (!tls && !flags.insecure_dev) {
    return Fail(Error(absl::StatusCode::kFailedPrecondition, "TLS_REQUIRED",
                      "the node serves only mutual TLS: give \"tls\" (ca, "
                      "cert, key; deploy/pki/make-pki.sh) in the "
                      "configuration, or --insecure-dev for plaintext on "
                      "loopback during development"));
  }
  if (!tls && !config::IsLoopback(cfg->listen)) {
    return Fail(
        Error(absl::StatusCode::kFailedPrecondition, "TLS_REQUIRED",
              absl::StrCat("--insecure-dev serves only on loopback, "
                           "and ",
                           cfg->listen, " is not; listen on 127.0.0.1:PORT")));
  }
  absl::StatusOr<crypto::Ed25519PrivateKey> node_key =
      crypto::LoadSigningKey(cfg->node_signing_key);
  if (!node_key.ok()) return Fail(node_key.status());

  absl::StatusOr<std::unique_ptr<federation::DirectoryLoader>> loader =
      federation::DirectoryLoader::Create(*cfg);
  if (!loader.ok()) return Fail(loader.status());
  // A node may be stricter than the federation's policy, never looser.
  if (absl::Status s =
          config::CheckNodeAgainstPolicy(*cfg, (*loader)->initial()->doc());
      !s.ok()) {
    return Fail(s);
  }
  absl::flat_hash_map<std::string, std::string> tokens;
  absl::flat_hash_map<std::string, uint64_t> quotas;
  for (const config::OrgConfig& o : cfg->organisations) {
    tokens[o.token_sha256] = o.id;
    quotas[o.id] = o.max_queued_bytes;
  }
  mailbox::OrgRegistry registry(cfg->node_id, (*loader)->initial(),
                                std::move(quotas));
  log::Info(
      "directory.loaded",
      absl::StrCat("directory ", registry.directory()->doc().federation(),
                   " serial ", registry.directory()->serial(), " (",
                   cfg->directory.empty() ? "local, from the configuration"
                                          : cfg->directory,
                   "), federation policy ",
                   PolicyName(registry.directory()->doc())),
      {{"serial", absl::StrCat(registry.directory()->serial())}});
  if (flags.check_config) return CheckConfig(*cfg, registry);
  std::function<void(const std::string&)> on_reload;
  auto log_reload = [&](absl::StatusOr<std::string> r) {
    if (!r.ok()) {
      log::Warn(
          "directory.reload_refused",
          absl::StrCat("directory reload refused: ", r.status().message()));
    } else if (!r->empty()) {
      log::Info("directory.reloaded",
                absl::StrCat(*r, "; federation policy ",
                             PolicyName(registry.directory()->doc())));
      // The merged periods follow the new policy; a setting of this node's
      // that it made looser no longer applies (PolicyBook), and says so.
      if (absl::Status s =
              config::CheckNodeAgainstPolicy(*cfg, registry.directory()->doc());
          !s.ok()) {
        log::Warn("policy.local_looser",
                  absl::StrCat(s.message(),
                               "; the federation's value applies until the "
                               "configuration is fixed"));
      }
      if (on_reload) on_reload(*r);
    }
  };

  storage::RocksStoreOptions store_options;
  store_options.path = cfg->data_dir;
  store_options.node_id = cfg->node_id;
  store_options.audit = !flags.no_audit_log;
  store_options.max_wal_bytes = cfg->disk_max_wal_bytes;
  if (!flags.restore.empty()) {
    if (absl::Status s =
            storage::RocksMessageStore::Restore(flags.restore, store_options);
        !s.ok()) {
      return Fail(s);
    }
    std::printf(
        "trm-broker: restored %s into %s; its audit log verified against "
        "its tree head. Start the node as usual.\n",
        flags.restore.c_str(), cfg->data_dir.c_str());
    return 0;
  }
  // On a nearly full disk, the reserve makes room to replay the
  // write-ahead log.
  if (absl::StatusOr<uint64_t> free =
          storage::StatvfsFreeSpace::Get().Available(cfg->data_dir);
      free.ok() && *free < cfg->disk_min_free_bytes) {
    absl::StatusOr<bool> released = storage::ReleaseReserve(cfg->data_dir);
    if (!released.ok()) return Fail(released.status());
    if (*released) {
      log::Warn("store.reserve_released",
                absl::StrCat("the disk is nearly full (", *free >> 20,
                             " MiB free): released the disk reserve ",
                             storage::ReservePath(cfg->data_dir),
                             " to open the store; free space, and the node "
                             "makes it again"));
    }
  }
  absl::StatusOr<std::unique_ptr<storage::RocksMessageStore>> store =
      storage::RocksMessageStore::Open(store_options);
  if (!store.ok()) return Fail(store.status());
  if (flags.verify_audit) {
    storage::AuditLog* log = (*store)->audit();
    absl::Status ok = log == nullptr ? absl::OkStatus() : log->VerifyAll();
    if (!ok.ok()) return Fail(ok);
    std::printf("trm-broker: audit log of %llu entries verified\n",
                static_cast<unsigned long long>(
                    log == nullptr ? 0 : log->Current().size));
    return 0;
  }
  // The audit log's signed tree heads, and what was loaded at start.
  std::unique_ptr<audit::TreeHeadSigner> head_signer;
  std::unique_ptr<audit::AuditApi> audit_api;
  auto audit_event = [&](v1::AuditEventKind kind, const std::string& detail) {
    v1::AuditEvent e;
    e.set_kind(kind);
    e.set_time_unix_ms(absl::ToUnixMillis(clock.Now()));
    e.set_directory_serial(registry.directory()->serial());
    e.set_detail(detail);
    absl::Status s = (*store)->AppendAudit(e);
    if (!s.ok()) {
      log::Error("audit.append_failed",
                 absl::StrCat("audit log: ", s.message()));
    }
  };
  if ((*store)->audit() != nullptr) {
    head_signer = std::make_unique<audit::TreeHeadSigner>(
        *(*store)->audit(), *node_key, cfg->node_id, clock);
    if (absl::Status s = head_signer->Init(); !s.ok()) return Fail(s);
    audit_api = std::make_unique<audit::AuditApi>(*(*store)->audit(),
                                                  *head_signer, registry);
    audit_event(
        v1::DIRECTORY_LOADED,
        absl::StrCat("directory ", registry.directory()->doc().federation(),
                     " serial ", registry.directory()->serial(), " at start"));
  } else {
    log::Warn("audit.off",
              "audit log OFF (--no-audit-log, for benchmarks only)");
  }

  storage::DiskGuard disk_guard(
      {.path = cfg->data_dir, .min_free_bytes = cfg->disk_min_free_bytes},
      storage::StatvfsFreeSpace::Get(), clock);
  disk_guard.Refresh();
  bool reserve_made =
      storage::HasReserve(cfg->data_dir, cfg->disk_reserve_bytes);
  receipts::ReceiptSigner signer(*node_key);
  mailbox::MailboxOptions options;
  options.node_id = cfg->node_id;
  options.limits.max_payload_bytes = cfg->max_payload_bytes;
  options.limits.max_envelope_bytes = cfg->max_payload_bytes + 8192;
  options.max_clock_skew = cfg->max_clock_skew;
  options.max_message_lifetime = cfg->max_message_lifetime;
  options.visibility_timeout = cfg->visibility_timeout;
  options.retention = cfg->retention;
  options.relay_enabled = tls;
  options.require_signed_acknowledgements =
      cfg->require_signed_acknowledgements;
  const cases::PolicyBook policy_book(cfg->case_policies);
  if (cfg->case_rules) options.case_policies = &policy_book;
  // Contingencies declared by the coordinators (docs/workflow.md), with
  // the case rules only.
  std::unique_ptr<contingency::ContingencyBook> contingencies;
  if (cfg->case_rules) {
    contingencies = std::make_unique<contingency::ContingencyBook>(
        **store, registry, clock, cfg->node_id);
  }
  options.contingencies = contingencies.get();
  options.verify_signatures = !flags.no_verify_signatures;
  options.disk_guard = &disk_guard;
  options.refusal_records_per_second =
      static_cast<double>(cfg->refusal_records_per_minute) / 60;
  options.refusal_record_burst = static_cast<double>(cfg->refusal_record_burst);
  if (flags.no_verify_signatures) {
    log::Warn("signatures.off",
              "signature verification of submitted envelopes OFF "
              "(--no-verify-signatures, for benchmarks only)");
  }
  mailbox::Mailbox mailbox(options, registry, **store, signer, clock);
  cases::DeadlineScheduler deadlines(**store, registry, *node_key, clock,
                                     cfg->node_id);
  deadlines.set_contingencies(contingencies.get());
  // Who calls: the client certificate with TLS, a token in development.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::unique_ptr<auth::CertVerifier> verifier;
  std::unique_ptr<auth::CallerAuthenticator> authenticator;
  std::string tls_ca_pem, tls_cert_pem, tls_key_pem;  // for calling peers
  if (tls) {
    std::string pem[3];
    const std::string* paths[3] = {&cfg->tls_ca, &cfg->tls_cert, &cfg->tls_key};
    for (int i = 0; i < 3; ++i) {
      std::ifstream in(*paths[i]);
      std::stringstream text;
      text << in.rdbuf();
      pem[i] = text.str();
      if (!in || pem[i].empty()) {
        return Fail(Error(absl::StatusCode::kInvalidArgument,
                          "TLS_CONFIG_INVALID",
                          absl::StrCat("cannot read the TLS file ", *paths[i],
                                       " (from \"tls\" in the "
                                       "configuration)")));
      }
    }
    absl::StatusOr<std::unique_ptr<auth::CertVerifier>> v =
        auth::CertVerifier::Create(pem[0]);
    if (!v.ok()) return Fail(v.status());
    verifier = std::move(*v);
    authenticator = std::make_unique<auth::CertificateAuthenticator>(
        *verifier, registry, clock);
    // The handshake requires a certificate and proves its key; whether the
    // certificate counts is the verifier's call, so that a refused peer is
    // told which certificate and why.
    grpc::SslServerCredentialsOptions opts(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
    opts.pem_root_certs = pem[0];
    opts.pem_key_cert_pairs.push_back({pem[2], pem[1]});
    credentials = grpc::SslServerCredentials(opts);
    tls_ca_pem = pem[0];
    tls_cert_pem = pem[1];
    tls_key_pem = pem[2];
    OPENSSL_cleanse(pem[2].data(), pem[2].size());
  } else {
    authenticator = std::make_unique<auth::TokenAuthenticator>(tokens);
    credentials = grpc::InsecureServerCredentials();
  }
  mailbox::StreamWatchdog watchdog(absl::Seconds(cfg->stream_stall_seconds),
                                   clock);
  mailbox::ServiceLimits limits;
  limits.max_calls_per_organisation = cfg->max_calls_per_organisation;
  mailbox::MailboxService service(mailbox, *authenticator, 2, limits,
                                  &watchdog);
  metrics::NodeMetrics node_metrics;
  service.set_submit_observer(
      [&node_metrics](const absl::Status& s, absl::Duration d) {
        node_metrics.ObserveSubmit(s, d);
      });
  // Cross-witnessing of peers' audit logs: with the audit log only.
  std::unique_ptr<audit::Witness> witness;
  if (audit_api) {
    witness = std::make_unique<audit::Witness>(
        (*store)->audit(), registry,
        [&](const v1::AuditEvent& e) { return (*store)->AppendAudit(e); },
        clock);
  }
  // Relay between nodes: only with mutual TLS.
  std::unique_ptr<federation::RelayReceiver> receiver;
  std::unique_ptr<federation::FederationService> federation_service;
  std::unique_ptr<federation::RelayRunner> relays;
  if (tls) {
    federation::RelayReceiverOptions ro;
    ro.node_id = cfg->node_id;
    ro.limits = options.limits;
    ro.max_clock_skew = options.max_clock_skew;
    ro.max_message_lifetime = options.max_message_lifetime;
    ro.case_policies = options.case_policies;
    ro.contingencies = options.contingencies;
    ro.disk_guard = &disk_guard;
    ro.arrivals = &mailbox.arrivals();
    receiver = std::make_unique<federation::RelayReceiver>(
        ro, registry, **store, signer, clock);
    receiver->set_tree_heads(head_signer.get(), (*store)->audit());
    federation_service = std::make_unique<federation::FederationService>(
        *receiver, *verifier, registry, clock);
    federation::RelayPolicy policy;
    policy.batch = cfg->relay_batch;
    policy.witness_interval = absl::Seconds(cfg->relay_witness_seconds);
    policy.base_backoff = absl::Milliseconds(cfg->relay_base_backoff_ms);
    policy.max_backoff = absl::Seconds(cfg->relay_max_backoff_seconds);
    policy.breaker_failures = static_cast<int>(cfg->relay_breaker_failures);
    policy.breaker_open = absl::Seconds(cfg->relay_breaker_open_seconds);
    policy.call_timeout = absl::Seconds(cfg->relay_call_timeout_seconds);
    relays = std::make_unique<federation::RelayRunner>(
        **store, registry, *verifier, signer, clock,
        federation::GrpcPeerTransport::Tls{tls_ca_pem, tls_cert_pem,
                                           tls_key_pem},
        policy);
    relays->set_witness(witness.get());
    relays->set_contingencies(contingencies.get());
    federation_service->set_contingencies(contingencies.get());
    relays->EnsurePeers();
    service.set_peer_links(
        [&relays,
         &clock](const std::string& node) -> std::optional<v1::PeerLink> {
          const absl::Time now = clock.Now();
          for (const auto& [peer, state] : relays->Links()) {
            if (peer == node) return admin::LinkOf(peer, state, now);
          }
          return std::nullopt;
        });
    deadlines.set_links([&relays](const std::string& node) -> absl::Time {
      for (const auto& [peer, state] : relays->Links()) {
        if (peer == node && state.consecutive_failures > 0) {
          return state.failing_since;
        }
      }
      return absl::InfinitePast();
    });
  }

  admin::AdminService admin_service(*authenticator, registry, **store,
                                    relays.get(), witness.get(), clock);
  admin_service.set_backup(store->get(), head_signer.get());
  admin_service.set_disk_guard(&disk_guard);
  if (!cfg->tls_cert.empty()) {
    absl::StatusOr<absl::Time> not_after =
        metrics::CertificateNotAfter(cfg->tls_cert);
    if (not_after.ok()) admin_service.set_tls_cert_not_after(*not_after);
  }
  cases::CaseApi case_api(**store, registry,
                          cfg->case_rules ? &deadlines : nullptr, clock);
  case_api.set_audit_log((*store)->audit());
  cases::CaseService case_service(*authenticator, case_api, *node_key);
  case_service.set_contingencies(contingencies.get());

  std::unique_ptr<audit::AuditService> audit_service;
  if (audit_api) {
    audit_service =
        std::make_unique<audit::AuditService>(*audit_api, *authenticator);
    on_reload = [&](const std::string& what) {
      audit_event(v1::DIRECTORY_LOADED, what);
    };
  }

  // Standard tools work: grpc.health.v1 (SERVING once started, NOT_SERVING
  // while stopping) and server reflection.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(cfg->listen, credentials, &port);
  // gRPC sets SO_REUSEPORT by default: a second node started on the same
  // port would then share its connections with the first. Off, it fails to
  // start (LISTEN_FAILED) instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // A bound on the server's threads: past it a new call is refused with
  // RESOURCE_EXHAUSTED instead of a thread more (the per-organisation
  // limit keeps one organisation from taking them all).
  grpc::ResourceQuota quota("trm-broker");
  quota.SetMaxThreads(static_cast<int>(cfg->max_threads));
  builder.SetResourceQuota(quota);
  // One envelope, or a relay batch (at most kMaxRelayBatchBytes of
  // envelopes, or a single envelope larger than that, and up to 256 path
  // notices of a few hundred bytes each) with its framing.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(options.limits.max_envelope_bytes +
                       federation::kMaxRelayBatchBytes + (1 << 20)));
  // A request gRPC cannot parse is answered with a reason, not INTERNAL.
  builder.experimental().SetInterceptorCreators(rpc::NodeInterceptors());
  builder.RegisterService(&service);
  builder.RegisterService(&admin_service);
  builder.RegisterService(&case_service);
  if (audit_service) builder.RegisterService(audit_service.get());
  if (federation_service) builder.RegisterService(federation_service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    return Fail(Error(absl::StatusCode::kUnavailable, "LISTEN_FAILED",
                      absl::StrCat("cannot listen on ", cfg->listen,
                                   "; is the port in use?")));
  }
  // The bound address, for tests that ask for port 0.
  std::string host = cfg->listen.substr(0, cfg->listen.rfind(':'));
  log::Info(
      "node.serving",
      absl::StrCat("node ", cfg->node_id, " serving on ", host, ":", port,
                   " (data ", cfg->data_dir, ", ",
                   tls ? "mutual TLS" : "plaintext, development only", ")"),
      {{"node", cfg->node_id}, {"address", absl::StrCat(host, ":", port)}});

  if (audit_api) {
    audit_event(
        v1::NODE_STARTED,
        absl::StrCat("node ", cfg->node_id, " serving on ", host, ":", port,
                     tls ? " with mutual TLS" : " (development)"));
  }

  // Prometheus metrics on their own port (plain HTTP: bind it to loopback
  // or an admin network).
  httplib::Server http;
  std::thread http_thread;
  if (!cfg->metrics_listen.empty()) {
    metrics::Sources sources;
    sources.registry = &registry;
    sources.store = store->get();
    sources.rocks = store->get();
    sources.links = relays.get();
    sources.witness = witness.get();
    sources.audit = (*store)->audit();
    sources.head_signer = head_signer.get();
    sources.deadlines = cfg->case_rules ? &deadlines : nullptr;
    sources.disk = &disk_guard;
    if (!cfg->tls_cert.empty()) {
      absl::StatusOr<absl::Time> not_after =
          metrics::CertificateNotAfter(cfg->tls_cert);
      if (not_after.ok()) sources.tls_cert_not_after = *not_after;
    }
    http.Get("/metrics", [&, sources](const httplib::Request&,
                                      httplib::Response& res) {
      absl::StatusOr<std::string> text =
          node_metrics.Render(sources, absl::Now());
      if (!text.ok()) {
        res.status = 503;
        res.set_content(std::string(text.status().message()), "text/plain");
        return;
      }
      res.set_content(*text, "text/plain; version=0.0.4");
    });
    const std::string mhost =
        cfg->metrics_listen.substr(0, cfg->metrics_listen.rfind(':'));
    const int mport = std::atoi(
        cfg->metrics_listen.substr(cfg->metrics_listen.rfind(':') + 1).c_str());
    const int bound = mport == 0
                          ? http.bind_to_any_port(mhost)
                          : (http.bind_to_port(mhost, mport) ? mport : -1);
    if (bound <= 0) {
      server->Shutdown();
      return Fail(
          Error(absl::StatusCode::kUnavailable, "LISTEN_FAILED",
                absl::StrCat("cannot serve metrics on ", cfg->metrics_listen,
                             "; is the port in use?")));
    }
    log::Info("node.metrics", absl::StrCat("metrics on http://", mhost, ":",
                                           bound, "/metrics"));
    http_thread = std::thread([&http] {
      process::NameThisThread("trm-metrics");
      http.listen_after_bind();
    });
  }

  // Expired messages leave the queues within a second; tree heads are
  // signed on the schedule.
  absl::Notification stop_sweeping;
  federation::DirectoryAlarm directory_alarm;  // the sweeper's alone
  std::thread sweeper([&] {
    process::NameThisThread("trm-sweeper");
    absl::Time next_head = absl::Now();
    absl::Time next_deadlines = absl::Now();
    while (!stop_sweeping.WaitForNotificationWithTimeout(absl::Seconds(1))) {
      if (head_signer && absl::Now() >= next_head) {
        next_head = absl::Now() + cfg->audit_tree_head_interval;
        if (absl::Status s = head_signer->Tick(); !s.ok()) {
          log::Error("audit.sign_failed",
                     absl::StrCat("signing a tree head: ", s.message()));
        }
      }
      if (cfg->case_rules && absl::Now() >= next_deadlines) {
        next_deadlines = absl::Now() + cfg->deadline_check_interval;
        if (absl::StatusOr<size_t> n = deadlines.Tick(); !n.ok()) {
          log::Error("deadline.check_failed",
                     absl::StrCat("deadlines: ", n.status().message()));
        }
      }
      watchdog.Tick();
      const storage::DiskGuard::State disk = disk_guard.Refresh();
      if (!reserve_made && !disk.low &&
          disk.free_bytes >=
              cfg->disk_min_free_bytes + cfg->disk_reserve_bytes) {
        if (absl::Status s =
                storage::EnsureReserve(cfg->data_dir, cfg->disk_reserve_bytes);
            !s.ok()) {
          log::Warn("store.reserve_failed", s.message());
        }
        reserve_made = true;  // tried; the next start tries again
      }
      log_reload((*loader)->ReloadIfChanged(registry));
      // The directory nearing or past its validity: alarms in the log.
      if (std::optional<federation::DirectoryAlarm::Line> line =
              directory_alarm.Check(*registry.directory(), clock.Now())) {
        if (line->warning) {
          log::Warn(line->event, line->text);
        } else {
          log::Info(line->event, line->text);
        }
      }
      if (relays) relays->EnsurePeers();  // nodes a new directory added
      for (absl::StatusOr<size_t> n :
           {mailbox.SweepExpired(), mailbox.PurgeRetained(),
            mailbox.SummarizeRefusals()}) {
        if (!n.ok()) {
          log::Error("node.sweep_failed",
                     absl::StrCat("sweep: ", n.status().message()));
        }
      }
    }
  });

  // Signals are blocked in every thread; this one waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  std::thread waiter([&] {
    process::NameThisThread("trm-signals");
    int sig = 0;
    for (;;) {
      sigwait(&set, &sig);
      if (sig != SIGHUP) break;
      // SIGHUP: reload the directory now.
      log_reload((*loader)->Reload(registry));
    }
    log::Info("node.stopping", absl::StrCat("signal ", sig, ", shutting down"));
    server->Shutdown(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
  });
  server->Wait();
  waiter.join();
  stop_sweeping.Notify();
  http.stop();
  if (http_thread.joinable()) http_thread.join();
  sweeper.join();
  relays.reset();  // stops the dispatchers before the store closes
  if (head_signer) {
    audit_event(v1::NODE_STOPPED,
                absl::StrCat("node ", cfg->node_id, " stopped cleanly"));
    // The last head covers everything the node did.
    head_signer->Latest(true).IgnoreError();
  }
  log::Info("node.stopped", "stopped cleanly");
  return 0;  // store closes as it goes out of scope
}

}  // namespace
}  // namespace trm

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so only sigwait sees
  // them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Before any thread starts: malloc settings for batches of envelopes,
  // and Abseil's lock-order checks as the build wants them.
  trm::process::TuneAllocator();
  trm::process::ConfigureMutexChecks();

  CLI::App app{
      "trm-broker: a national node of the Transnational Referral "
      "Mechanism"};
  app.set_version_flag("--version", "trm-broker " TRM_VERSION " (protocol v1)");
  trm::Flags flags;
  app.add_option("--config", flags.config, "configuration file (JSON)")
      ->required();
  app.add_option("--listen", flags.listen,
                 "address to serve on, overrides the file (port 0 picks one)");
  app.add_option("--data-dir", flags.data_dir,
                 "data directory, overrides the file");
  app.add_flag("--insecure-dev", flags.insecure_dev,
               "serve plaintext gRPC on loopback (development only)");
  app.add_flag("--verify-audit", flags.verify_audit,
               "rehash the whole audit log against its stored tree, print "
               "the result and exit (the node must be stopped)");
  app.add_option("--restore", flags.restore,
                 "restore a backup (`trmctl admin backup`) into the data "
                 "directory, which must be empty or missing; verify it and "
                 "exit");
  app.add_flag("--check-config", flags.check_config,
               "check the configuration, its key, certificate and "
               "directory files, print a summary and exit without "
               "starting");
  app.add_flag("--no-audit-log", flags.no_audit_log,
               "keep no audit log: for measuring its cost in benchmarks "
               "only, never in a federation");
  app.add_flag("--no-verify-signatures", flags.no_verify_signatures,
               "accept submitted envelopes without checking their "
               "signatures: for measuring the cost of verification in "
               "benchmarks only, never in a federation");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return trm::Run(flags);
}
