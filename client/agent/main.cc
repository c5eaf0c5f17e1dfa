// trm-agent: an organisation's gateway to its trm-broker node. It pulls the
// organisation's messages, verifies and stores each before acknowledging
// it, and serves the JSON API of docs/integration.md.
//
//   trm-agent --config agent.json [--check-config]
//   trm-agent user add --users users.json --name amira --role caseworker
//             [--password-stdin]
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "client/agent/agent_api.h"
#include "client/agent/agent_config.h"
#include "client/agent/agent_metrics.h"
#include "client/agent/agent_store.h"
#include "client/agent/audit_source.h"
#include "client/agent/erasure.h"
#include "client/agent/event_hub.h"
#include "client/agent/http_api.h"
#include "client/agent/inbox_puller.h"
#include "client/agent/session_table.h"
#include "client/agent/user_book.h"
#include "client/agent/watcher.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/process/mutex_checks.h"
#include "common/status.h"
#include "trm/client/client.h"

namespace trm::agent {
namespace {

int Fail(const absl::Status& s) {
  std::cerr << "trm-agent: " << s.message() << "\n";
  return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

// Pulls until `stop`, backing off after a failure; watches the sent
// messages and owed deadlines every watch_seconds; purges closed cases past
// their retention once an hour.
void Intake(InboxPuller& puller, Watcher& watcher, AgentStore& store,
            AgentMetrics& metrics, const AgentConfig& c, absl::Mutex& mu,
            bool& stop) {
  absl::Duration backoff = absl::Seconds(1);
  absl::Time last_purge = absl::InfinitePast();
  absl::Time last_watch = absl::InfinitePast();
  for (;;) {
    {
      absl::MutexLock lock(&mu);
      if (stop) return;
    }
    if (absl::Now() - last_purge > absl::Hours(1)) {
      absl::StatusOr<std::vector<std::string>> purged =
          store.PurgeClosed(c.retention);
      if (purged.ok() && !purged->empty()) {
        log::Info("agent.retention",
                  absl::StrCat("purged ", purged->size(), " closed cases"));
      }
      last_purge = absl::Now();
    }
    if (absl::Now() - last_watch >= c.watch_every) {
      absl::StatusOr<SweepResult> w = watcher.Sweep();
      metrics.ObserveSweep(w);
      absl::Status fault = w.ok() ? w->first_error : w.status();
      if (!fault.ok()) {
        log::Warn("agent.watch", absl::StrCat("watching sent messages and "
                                              "deadlines: ",
                                              fault.message()));
      }
      last_watch = absl::Now();
    }
    absl::StatusOr<PullResult> r = puller.PullOnce(
        c.pull_window, std::min(absl::Seconds(10), c.watch_every));
    metrics.ObservePull(r, absl::Now());
    absl::Status fault = r.ok() ? r->first_error : r.status();
    if (r.ok() && (r->stored + r->refused) > 0) {
      log::Info("agent.intake",
                absl::StrCat("stored ", r->stored, ", refused ", r->refused,
                             ", released ", r->released));
    }
    if (fault.ok()) {
      backoff = absl::Seconds(1);
      continue;
    }
    log::Warn("agent.intake",
              absl::StrCat("pulling from the node: ", fault.message()));
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(absl::Condition(&stop), backoff);
    backoff = std::min(backoff * 2, absl::Seconds(30));
  }
}

int Run(const std::string& config_path, bool check_only) {
  absl::StatusOr<AgentConfig> c = LoadAgentConfig(config_path);
  if (!c.ok()) return Fail(c.status());
  absl::StatusOr<client::Profile> profile = client::LoadProfile(c->profile);
  if (!profile.ok()) return Fail(profile.status());
  absl::StatusOr<UserBook> users = UserBook::Load(c->users_file);
  if (!users.ok()) return Fail(users.status());
  if (users->entries().empty()) {
    return Fail(Error(absl::StatusCode::kInvalidArgument, "CONFIG_INVALID",
                      "the users file holds no user; add one with "
                      "`trm-agent user add`"));
  }
  absl::StatusOr<std::unique_ptr<client::Client>> client =
      client::Client::Connect(*profile);
  if (!client.ok()) return Fail(client.status());
  if (check_only) {
    std::cout << "trm-agent: configuration OK: organisation "
              << profile->identity.org << " at node " << profile->identity.node
              << " (" << profile->connect.address << "), "
              << users->entries().size() << " users, API on "
              << (c->tls_cert.empty() ? "http://" : "https://") << c->host
              << ":" << c->port << "\n";
    return 0;
  }
  absl::StatusOr<std::unique_ptr<AgentStore>> store =
      AgentStore::Open(c->data_dir, SystemClock::Get());
  if (!store.ok()) return Fail(store.status());

  EventHub hub;
  ClientNode node(**client);
  AgentApi api(**store, node, hub, SystemClock::Get());
  std::unique_ptr<ClientAuditSource> audit_source;
  std::unique_ptr<AuditView> audit_view;
  if (!c->audit.nodes.empty()) {
    absl::StatusOr<std::unique_ptr<ClientAuditSource>> s =
        ClientAuditSource::Connect(c->audit, *profile);
    if (!s.ok()) return Fail(s.status());
    audit_source = *std::move(s);
    audit_view =
        std::make_unique<AuditView>(*audit_source, **store, SystemClock::Get());
    api.SetAudit(audit_view.get());
  }
  SessionTable sessions(SystemClock::Get(), c->session_idle);
  HttpApi http(api, *users, sessions, hub);
  http.SetTls(!c->tls_cert.empty());
  AgentMetrics metrics;
  http.SetHealth([&metrics] { return metrics.Health(absl::Now()); });

  ClientMailbox mailbox(**client);
  InboxPuller puller(mailbox, **store);
  puller.OnStored([&](const v1::AgentRecord& r) {
    hub.Publish({"message", HexEncode(AsBytes(r.message_id())),
                 v1::MessageType_Name(r.header().type()),
                 r.header().case_ref()});
    absl::StatusOr<size_t> n = ApplyNotice(**store, node, r);
    if (!n.ok()) {
      log::Warn("agent.erasure",
                absl::StrCat("applying a notice: ", n.status().message()));
    } else if (*n > 0) {
      log::Info("agent.erasure",
                absl::StrCat("the notice for case ", r.header().case_ref(),
                             " reached ", *n, " messages"));
    }
  });

  puller.OnRefused([&](const client::Delivery& d, const absl::Status& why) {
    hub.Publish({"refused", HexEncode(AsBytes(d.message_id)),
                 v1::MessageType_Name(d.header.type()), d.header.case_ref()});
    log::Warn(
        "agent.intake",
        absl::StrCat(
            "refused ", v1::MessageType_Name(d.header.type()), " ",
            HexEncode(AsBytes(d.message_id)), " from ", d.header.sender_org(),
            " (case ", d.header.case_ref(), ") as ",
            absl::StripPrefix(v1::RefusalReason_Name(client::RefusalFor(why)),
                              "REFUSAL_"),
            ": ", why.message()));
  });

  std::unique_ptr<httplib::Server> server;
  if (c->tls_cert.empty()) {
    server = std::make_unique<httplib::Server>();
  } else {
    auto tls = std::make_unique<httplib::SSLServer>(c->tls_cert.c_str(),
                                                    c->tls_key.c_str());
    if (!tls->is_valid()) {
      return Fail(Error(absl::StatusCode::kInvalidArgument,
                        "TLS_CONFIG_INVALID",
                        absl::StrCat("cannot load tls_cert ", c->tls_cert,
                                     " and tls_key ", c->tls_key)));
    }
    server = std::move(tls);
  }
  server->new_task_queue = [] {
    return new httplib::ThreadPool(HttpApi::kThreads);
  };
  http.Install(*server);
  int port = c->port;
  if (port == 0) {
    port = server->bind_to_any_port(c->host);
  } else if (!server->bind_to_port(c->host, port)) {
    port = -1;
  }
  if (port < 0) {
    return Fail(Error(absl::StatusCode::kUnavailable, "LISTEN_FAILED",
                      absl::StrCat("cannot listen on ", c->host, ":", c->port,
                                   "; is another agent there?")));
  }

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  absl::Mutex mu;
  bool stop = false;
  std::unique_ptr<httplib::Server> metrics_server;
  int metrics_port = -1;
  if (!c->metrics_host.empty()) {
    metrics_server = std::make_unique<httplib::Server>();
    metrics_server->Get(
        "/metrics", [&](const httplib::Request&, httplib::Response& res) {
          absl::StatusOr<std::string> text =
              metrics.Render(**store, hub, absl::Now());
          if (!text.ok()) {
            res.status = 500;
            res.set_content(std::string(text.status().message()), "text/plain");
            return;
          }
          res.set_content(*text, "text/plain; version=0.0.4");
        });
    metrics_port =
        c->metrics_port == 0
            ? metrics_server->bind_to_any_port(c->metrics_host)
            : (metrics_server->bind_to_port(c->metrics_host, c->metrics_port)
                   ? c->metrics_port
                   : -1);
    if (metrics_port < 0) {
      return Fail(Error(absl::StatusCode::kUnavailable, "LISTEN_FAILED",
                        absl::StrCat("cannot listen for metrics on ",
                                     c->metrics_host, ":", c->metrics_port)));
    }
  }
  Watcher watcher(**store, node, hub, c->deadline_warning);
  std::thread intake(
      [&] { Intake(puller, watcher, **store, metrics, *c, mu, stop); });
  std::thread metrics_thread;
  if (metrics_server) {
    metrics_thread = std::thread([&] { metrics_server->listen_after_bind(); });
    std::cout << "trm-agent: metrics at http://" << c->metrics_host << ":"
              << metrics_port << "/metrics" << std::endl;
  }
  std::thread serve([&] { server->listen_after_bind(); });
  std::cout << "trm-agent: serving " << profile->identity.org << "'s API at "
            << (c->tls_cert.empty() ? "http://" : "https://") << c->host << ":"
            << port << "/api/v1/ (node " << profile->connect.address << ")"
            << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  std::cout << "trm-agent: stopping" << std::endl;
  {
    absl::MutexLock lock(&mu);
    stop = true;
  }
  hub.Close();
  server->stop();
  serve.join();
  if (metrics_server) {
    metrics_server->stop();
    metrics_thread.join();
  }
  intake.join();
  return 0;
}

int AddUser(const std::string& users, const std::string& name,
            const std::string& role_name, bool password_stdin) {
  std::optional<Role> role = RoleFromName(role_name);
  if (!role.has_value()) {
    return Fail(Error(absl::StatusCode::kInvalidArgument, "USAGE",
                      "--role is caseworker, coordinator or auditor"));
  }
  std::string password;
  if (password_stdin) std::getline(std::cin, password);
  absl::StatusOr<std::string> token =
      UserBook::AddUser(users, name, *role, password);
  if (!token.ok()) return Fail(token.status());
  std::cout << *token << "\n";
  std::cerr << "trm-agent: " << name << " (" << role_name << ") added to "
            << users
            << "; the line above is a new API token, shown only once\n";
  return 0;
}

}  // namespace
}  // namespace trm::agent

int main(int argc, char** argv) {
  trm::process::ConfigureMutexChecks();
  CLI::App app{"trm-agent: an organisation's gateway to its trm-broker node"};
  std::string config;
  bool check = false;
  app.add_option("--config", config, "the agent's configuration (JSON)");
  app.add_flag("--check-config", check,
               "load everything, connect, report, and exit");
  CLI::App* user = app.add_subcommand("user", "manage the agent's users");
  CLI::App* add = user->add_subcommand("add", "add a user, print a new token");
  std::string users, name, role = "caseworker";
  bool password_stdin = false;
  add->add_option("--users", users, "the users file")->required();
  add->add_option("--name", name, "the user's name")->required();
  add->add_option("--role", role, "caseworker, coordinator or auditor");
  add->add_flag("--password-stdin", password_stdin,
                "read a password (10 characters or more) from stdin");
  user->require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  if (add->parsed()) {
    return trm::agent::AddUser(users, name, role, password_stdin);
  }
  if (config.empty()) {
    std::cerr << "trm-agent: give --config FILE (docs/integration.md)\n";
    return 2;
  }
  return trm::agent::Run(config, check);
}
