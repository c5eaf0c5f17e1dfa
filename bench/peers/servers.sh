# Sourced by bench/compare.sh: starts Debian's nats-server (JetStream, file
# storage) and rabbitmq-server on 127.0.0.1 with their data under $1, and
# stops them by PID. Both listen on their standard ports (4222, 5672), so
# nothing else may be using those while the benchmark runs.
peer_pids=()
start_nats() {  # start_nats DIR
  mkdir -p "$1/nats"
  cat >"$1/nats/nats.conf" <<CONF
listen: 127.0.0.1:4222
jetstream { store_dir: "$1/nats/js", max_file_store: 16GB, max_memory_store: 256MB }
CONF
  setsid nats-server -c "$1/nats/nats.conf" >"$1/nats/log" 2>&1 &
  nats_pid=$!; peer_pids+=("$nats_pid")
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && return 0; sleep 0.1; done
  echo "nats-server did not start: $(tail -3 "$1/nats/log")" >&2; return 1
}
start_rmq() {  # start_rmq DIR; sets rmq_pid to the Erlang VM (beam.smp)
  local r="$1/rmq"
  mkdir -p "$r/log" "$r/mnesia"
  echo "listeners.tcp.1 = 127.0.0.1:5672" >"$r/rabbitmq.conf"
  # Quorum queues: fdatasync the Raft WAL before confirming.
  echo "[{ra,[{wal_sync_method,datasync}]}]." >"$r/advanced.config"
  echo "[]." >"$r/enabled_plugins"
  ( export HOME=$r RABBITMQ_NODENAME=trmbench@localhost RABBITMQ_CONFIG_FILE=$r/rabbitmq.conf \
      RABBITMQ_ADVANCED_CONFIG_FILE=$r/advanced.config RABBITMQ_MNESIA_BASE=$r/mnesia \
      RABBITMQ_LOG_BASE=$r/log RABBITMQ_ENABLED_PLUGINS_FILE=$r/enabled_plugins \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 \
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    setsid /usr/lib/rabbitmq/bin/rabbitmq-server >"$r/server.out" 2>&1 & echo $! >"$r/pid" )
  peer_pids+=("$(cat "$r/pid")")
  for _ in $(seq 1 120); do (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break; sleep 0.5; done
  (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null ||
    { echo "rabbitmq-server did not start: $(tail -5 "$r/server.out")" >&2; return 1; }
  rmq_pid=$(pgrep -f "beam.smp.*-home $r" | head -1)
  peer_pids+=("$rmq_pid")
  sleep 2  # let it finish booting its plugins before the first queue
}
stop_peers() {
  local ep
  ep=$(pgrep -x epmd -n 2>/dev/null || true); [ -n "$ep" ] && peer_pids+=("$ep")
  for p in "${peer_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${peer_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  peer_pids=()
}
