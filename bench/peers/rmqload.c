/* rmqload: RabbitMQ (AMQP 0-9-1, durable queues, persistent messages,
 * publisher confirms) load for bench/compare.sh, on Debian's librabbitmq.
 *
 *   rmqload quorum|classic publish P N SIZE W    P producers, one queue
 *                                  each, N messages, W unconfirmed at most;
 *                                  per-message publish-to-confirm latency.
 *   rmqload quorum|classic drain P N   P consumers, prefetch 256, acks
 *                                  (multiple) every 64 messages.
 *   rmqload quorum|classic paced P N SIZE W R   P producers at R/P msg/s
 *                                  each while P consumers drain: end-to-end
 *                                  latency (publish -> delivery).
 *
 * Prints one RESULT line. Exit 1 on any error. */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include "load_common.h"

static const char *type, *mode;
static int P, W;
static long N, SIZE;
static double RATE;
static pthread_barrier_t ready;
static double t_start;

typedef struct {
  int id;
  double* lat;
  long nlat;
  long nacks;
} Lane;
static Lane *lanes, *consumers;

static void die_rpc(amqp_rpc_reply_t r, const char* what) {
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    fprintf(stderr, "rmqload: %s failed (reply type %d, method 0x%x)\n", what,
            r.reply_type, r.reply.id);
    exit(1);
  }
}

static amqp_connection_state_t open_conn(void) {
  amqp_connection_state_t c = amqp_new_connection();
  amqp_socket_t* s = amqp_tcp_socket_new(c);
  if (amqp_socket_open(s, "127.0.0.1", 5672)) {
    fprintf(stderr, "rmqload: cannot connect to 127.0.0.1:5672\n");
    exit(1);
  }
  die_rpc(amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest",
                     "guest"),
          "login");
  amqp_channel_open(c, 1);
  die_rpc(amqp_get_rpc_reply(c), "channel.open");
  return c;
}

static void queue_name(int id, char* out, size_t n) {
  snprintf(out, n, "bench.%s.%d", type, id);
}

static void declare(amqp_connection_state_t c, int id) {
  char q[64];
  queue_name(id, q, sizeof q);
  amqp_queue_delete(c, 1, amqp_cstring_bytes(q), 0, 0);
  die_rpc(amqp_get_rpc_reply(c), "queue.delete");
  amqp_table_entry_t e;
  amqp_table_t args = {0, NULL};
  if (!strcmp(type, "quorum")) {
    e.key = amqp_cstring_bytes("x-queue-type");
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = amqp_cstring_bytes("quorum");
    args.num_entries = 1;
    args.entries = &e;
  }
  amqp_queue_declare(c, 1, amqp_cstring_bytes(q), 0, 1, 0, 0, args);
  die_rpc(amqp_get_rpc_reply(c), "queue.declare");
}

/* Reads one confirm frame, waiting at most `timeout_s` (< 0: forever).
 * Returns 1 when one was read. */
static int read_confirm(amqp_connection_state_t c, double* sent, uint64_t* conf,
                        Lane* l, int measure, double timeout_s) {
  amqp_frame_t f;
  struct timeval tv, *tvp = NULL;
  if (timeout_s >= 0) {
    tv.tv_sec = (long)timeout_s;
    tv.tv_usec = (long)((timeout_s - tv.tv_sec) * 1e6);
    tvp = &tv;
  }
  int r = amqp_simple_wait_frame_noblock(c, &f, tvp);
  if (r == AMQP_STATUS_TIMEOUT) return 0;
  if (r != AMQP_STATUS_OK) {
    fprintf(stderr, "rmqload: wait_frame: %s\n", amqp_error_string2(r));
    exit(1);
  }
  if (f.frame_type != AMQP_FRAME_METHOD) return 1;
  uint64_t tag;
  int multiple;
  if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
    amqp_basic_ack_t* a = f.payload.method.decoded;
    tag = a->delivery_tag;
    multiple = a->multiple;
  } else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
    amqp_basic_nack_t* a = f.payload.method.decoded;
    tag = a->delivery_tag;
    multiple = a->multiple;
    l->nacks++;
  } else {
    fprintf(stderr, "rmqload: unexpected method 0x%x\n", f.payload.method.id);
    exit(1);
  }
  double now = mono_s();
  uint64_t from = multiple ? *conf + 1 : tag;
  if (measure)
    for (uint64_t k = from; k <= tag; k++) l->lat[l->nlat++] = now - sent[k];
  if (tag > *conf) *conf = tag; /* in order on one channel and queue */
  amqp_maybe_release_buffers(c);
  return 1;
}

static void produce(Lane* l, amqp_connection_state_t c, double rate) {
  char q[64];
  queue_name(l->id, q, sizeof q);
  amqp_confirm_select(c, 1);
  die_rpc(amqp_get_rpc_reply(c), "confirm.select");
  double* sent = calloc(N + 1, sizeof(double));
  char* buf = calloc(1, SIZE);
  memset(buf + 8, 'x', SIZE - 8);
  amqp_basic_properties_t p;
  p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  p.delivery_mode = 2; /* persistent */
  uint64_t next = 0, conf = 0;
  const int measure = !strcmp(mode, "publish");
  while (conf < (uint64_t)N) {
    while (next < (uint64_t)N && next - conf < (uint64_t)W) {
      if (rate > 0) {
        double due = t_start + next / rate;
        if (mono_s() < due - 1e-3) { /* see sleep_until */
          /* Collect confirms until the next message is due. */
          if (next > conf) {
            read_confirm(c, sent, &conf, l, measure, due - mono_s());
            continue;
          }
          sleep_until(due);
        }
      }
      next++;
      sent[next] = mono_s();
      stamp(buf, sent[next]);
      if (amqp_basic_publish(c, 1, amqp_empty_bytes, amqp_cstring_bytes(q), 0,
                             0, &p, (amqp_bytes_t){SIZE, buf})) {
        fprintf(stderr, "rmqload: publish failed\n");
        exit(1);
      }
    }
    if (conf < next) read_confirm(c, sent, &conf, l, measure, -1);
  }
  free(buf);
  free(sent);
}

static void consume(Lane* l, amqp_connection_state_t c, int measure) {
  char q[64];
  queue_name(l->id, q, sizeof q);
  amqp_basic_qos(c, 1, 0, 256, 0);
  die_rpc(amqp_get_rpc_reply(c), "basic.qos");
  amqp_basic_consume(c, 1, amqp_cstring_bytes(q), amqp_empty_bytes, 0, 0, 0,
                     amqp_empty_table);
  die_rpc(amqp_get_rpc_reply(c), "basic.consume");
  long got = 0;
  uint64_t last = 0;
  while (got < N) {
    amqp_envelope_t env;
    amqp_maybe_release_buffers(c);
    die_rpc(amqp_consume_message(c, &env, NULL, 0), "consume");
    if (measure)
      l->lat[l->nlat++] = mono_s() - stamp_of(env.message.body.bytes);
    got++;
    last = env.delivery_tag;
    if (got % 64 == 0) amqp_basic_ack(c, 1, last, 1);
    amqp_destroy_envelope(&env);
  }
  amqp_basic_ack(c, 1, last, 1);
}

static void close_conn(amqp_connection_state_t c) {
  amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(c, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(c);
}

static void* consumer_main(void* arg) {
  Lane* l = arg;
  amqp_connection_state_t c = open_conn();
  pthread_barrier_wait(&ready);
  consume(l, c, !strcmp(mode, "paced"));
  close_conn(c);
  return NULL;
}

static void* producer_main(void* arg) {
  Lane* l = arg;
  amqp_connection_state_t c = open_conn();
  if (strcmp(mode, "drain") != 0) declare(c, l->id);
  pthread_barrier_wait(&ready);
  produce(l, c, !strcmp(mode, "paced") ? RATE / P : 0);
  close_conn(c);
  return NULL;
}

int main(int argc, char** argv) {
  LoadArgs a;
  if (argc < 2 || parse_load_args(argc, argv, 2, &a)) {
    fprintf(stderr,
            "usage: rmqload quorum|classic publish P N SIZE W | drain P N | "
            "paced P N SIZE W RATE\n");
    return 2;
  }
  type = argv[1];
  mode = a.mode;
  P = a.producers;
  N = a.count;
  SIZE = a.size;
  W = a.window;
  RATE = a.rate;
  const int producing = strcmp(mode, "drain") != 0;
  const int consuming = strcmp(mode, "publish") != 0;
  lanes = calloc(P, sizeof(Lane));
  consumers = calloc(P, sizeof(Lane));
  pthread_t* pt = calloc(P, sizeof(pthread_t));
  pthread_t* ct = calloc(P, sizeof(pthread_t));
  /* Queues first, so a paced consumer finds its queue. */
  if (producing && consuming) {
    for (int i = 0; i < P; i++) {
      amqp_connection_state_t c = open_conn();
      declare(c, i);
      close_conn(c);
    }
  }
  pthread_barrier_init(&ready, NULL, P * (producing + consuming) + 1);
  for (int i = 0; i < P; i++) {
    lanes[i].id = consumers[i].id = i;
    lanes[i].lat = calloc(N, sizeof(double));
    consumers[i].lat = calloc(N, sizeof(double));
    if (producing) pthread_create(&pt[i], NULL, producer_main, &lanes[i]);
    if (consuming) pthread_create(&ct[i], NULL, consumer_main, &consumers[i]);
  }
  pthread_barrier_wait(&ready);
  t_start = mono_s();
  for (int i = 0; i < P; i++) {
    if (producing) pthread_join(pt[i], NULL);
    if (consuming) pthread_join(ct[i], NULL);
  }
  double secs = mono_s() - t_start;
  Lane* measured = consuming && producing ? consumers : lanes;
  long nacks = 0, nlat = 0;
  double* lat = calloc((size_t)N * P, sizeof(double));
  for (int i = 0; i < P; i++) {
    nacks += lanes[i].nacks;
    memcpy(lat + nlat, measured[i].lat, measured[i].nlat * sizeof(double));
    nlat += measured[i].nlat;
  }
  char fields[160];
  snprintf(fields, sizeof fields,
           "system=rmq-%s mode=%s producers=%d size=%ld window=%d rate=%.0f "
           "errors=%ld",
           type, mode, P, SIZE, W, RATE, nacks);
  print_result(fields, N * P, secs, nlat ? lat : NULL, nlat);
  return nacks ? 1 : 0;
}
