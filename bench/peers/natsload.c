/* natsload: NATS JetStream (file storage, one stream per producer) load for
 * bench/compare.sh, on Debian's libnats.
 *
 *   natsload publish P N SIZE W    P producers publish N messages each, W
 *                                  unacknowledged at most; per-message
 *                                  publish-to-ack latency.
 *   natsload drain   P N           P consumers pull and ack N each.
 *   natsload paced   P N SIZE W R  P producers at R/P msg/s each while P
 *                                  consumers pull and ack: end-to-end
 *                                  latency (publish -> consumer).
 *
 * Prints one RESULT line. Exit 1 on any error. */
#include <nats/nats.h>

#include "load_common.h"

#define CHK(x)                                                           \
  do {                                                                   \
    natsStatus s_ = (x);                                                 \
    if (s_ != NATS_OK) {                                                 \
      fprintf(stderr, "natsload: %s: %s\n", #x, natsStatus_GetText(s_)); \
      nats_PrintLastErrorStack(stderr);                                  \
      exit(1);                                                           \
    }                                                                    \
  } while (0)

static const char* mode;
static int P, W;
static long N, SIZE;
static double RATE;
static pthread_barrier_t ready;
static double t_start;

typedef struct {
  int id;
  double* sent; /* per sequence number */
  double* lat;
  long nlat;
  volatile long acked, errors;
  pthread_mutex_t mu;
} Lane;
static Lane* lanes;

static void on_ack(jsCtx* js, natsMsg* m, jsPubAck* pa, jsPubAckErr* pae,
                   void* closure) {
  (void)js;
  (void)pae;
  Lane* l = closure;
  double now = mono_s();
  uint64_t seq;
  memcpy(&seq, natsMsg_GetData(m) + 8, 8);
  pthread_mutex_lock(&l->mu);
  if (pa) {
    /* Paced runs measure end to end, at the consumer, instead. */
    if (!strcmp(mode, "publish")) l->lat[l->nlat++] = now - l->sent[seq];
  } else {
    l->errors++;
  }
  l->acked++;
  pthread_mutex_unlock(&l->mu);
  natsMsg_Destroy(m);
}

static void connect_js(Lane* l, natsConnection** nc, jsCtx** js, int window) {
  jsOptions jo;
  CHK(natsConnection_ConnectTo(nc, "nats://127.0.0.1:4222"));
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = window;
  jo.PublishAsync.AckHandler = on_ack;
  jo.PublishAsync.AckHandlerClosure = l;
  jo.PublishAsync.StallWait = 60000;
  jo.Wait = 60000;
  CHK(natsConnection_JetStream(js, *nc, &jo));
}

static void subject(int id, char* out, size_t n) {
  snprintf(out, n, "bench.q.%d", id);
}

static void produce(Lane* l, jsCtx* js, double rate) {
  char subj[32];
  subject(l->id, subj, sizeof subj);
  char* buf = calloc(1, SIZE < 16 ? 16 : SIZE);
  memset(buf + 16, 'x', SIZE > 16 ? SIZE - 16 : 0);
  for (uint64_t i = 0; i < (uint64_t)N; i++) {
    if (rate > 0) sleep_until(t_start + i / rate);
    double t = mono_s();
    stamp(buf, t);
    memcpy(buf + 8, &i, 8);
    if (W == 1 && rate == 0) {
      jsPubAck* pa = NULL;
      jsErrCode jerr = 0;
      CHK(js_Publish(&pa, js, subj, buf, SIZE, NULL, &jerr));
      l->lat[l->nlat++] = mono_s() - t;
      l->acked++;
      jsPubAck_Destroy(pa);
    } else {
      l->sent[i] = t;
      CHK(js_PublishAsync(js, subj, buf, SIZE, NULL));
    }
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 120000;
  CHK(js_PublishAsyncComplete(js, &po));
  free(buf);
}

static void consume(Lane* l, jsCtx* js, int measure) {
  char subj[32], stream[32];
  subject(l->id, subj, sizeof subj);
  snprintf(stream, sizeof stream, "BENCH%d", l->id);
  natsSubscription* sub;
  jsSubOptions so;
  jsErrCode jerr = 0;
  jsSubOptions_Init(&so);
  so.Stream = stream;
  so.Config.AckPolicy = js_AckExplicit;
  so.Config.MaxAckPending = -1;
  CHK(js_PullSubscribe(&sub, js, subj, "C", NULL, &so, &jerr));
  long got = 0;
  while (got < N) {
    natsMsgList list;
    natsStatus s = natsSubscription_Fetch(&list, sub, 256, 10000, &jerr);
    if (s == NATS_TIMEOUT) continue;
    CHK(s);
    double now = mono_s();
    for (int i = 0; i < list.Count; i++) {
      if (measure)
        l->lat[l->nlat++] = now - stamp_of(natsMsg_GetData(list.Msgs[i]));
      CHK(natsMsg_Ack(list.Msgs[i], NULL));
    }
    got += list.Count;
    natsMsgList_Destroy(&list);
  }
  natsSubscription_Destroy(sub);
}

static void* consumer_main(void* arg) {
  Lane* l = arg;
  natsConnection* nc;
  jsCtx* js;
  connect_js(l, &nc, &js, 1);
  consume(l, js, 1);
  CHK(natsConnection_Flush(nc));
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return NULL;
}

static void* lane_main(void* arg) {
  Lane* l = arg;
  natsConnection* nc;
  jsCtx* js;
  connect_js(l, &nc, &js, W);
  if (strcmp(mode, "drain") != 0) {
    char stream[32], subj[32];
    snprintf(stream, sizeof stream, "BENCH%d", l->id);
    subject(l->id, subj, sizeof subj);
    jsErrCode jerr = 0;
    js_DeleteStream(js, stream, NULL, &jerr);
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = stream;
    const char* subs[] = {subj};
    sc.Subjects = subs;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Replicas = 1;
    sc.Retention = js_WorkQueuePolicy;
    CHK(js_AddStream(NULL, js, &sc, NULL, &jerr));
  }
  pthread_barrier_wait(&ready);
  if (!strcmp(mode, "publish")) {
    produce(l, js, 0);
  } else if (!strcmp(mode, "drain")) {
    consume(l, js, 0);
    CHK(natsConnection_Flush(nc));
  } else {
    pthread_t c;
    pthread_create(&c, NULL, consumer_main, l);
    produce(l, js, RATE / P);
    pthread_join(c, NULL);
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return NULL;
}

int main(int argc, char** argv) {
  LoadArgs a;
  if (parse_load_args(argc, argv, 1, &a)) {
    fprintf(stderr,
            "usage: natsload publish P N SIZE W | drain P N | "
            "paced P N SIZE W RATE\n");
    return 2;
  }
  mode = a.mode;
  P = a.producers;
  N = a.count;
  SIZE = a.size;
  W = a.window;
  RATE = a.rate;
  lanes = calloc(P, sizeof(Lane));
  pthread_barrier_init(&ready, NULL, P + 1);
  pthread_t* t = calloc(P, sizeof(pthread_t));
  for (int i = 0; i < P; i++) {
    lanes[i].id = i;
    lanes[i].sent = calloc(N, sizeof(double));
    lanes[i].lat = calloc(N, sizeof(double));
    pthread_mutex_init(&lanes[i].mu, NULL);
    pthread_create(&t[i], NULL, lane_main, &lanes[i]);
  }
  pthread_barrier_wait(&ready);
  t_start = mono_s();
  for (int i = 0; i < P; i++) pthread_join(t[i], NULL);
  double secs = mono_s() - t_start;
  long errors = 0, nlat = 0;
  double* lat = calloc((size_t)N * P, sizeof(double));
  for (int i = 0; i < P; i++) {
    errors += lanes[i].errors;
    memcpy(lat + nlat, lanes[i].lat, lanes[i].nlat * sizeof(double));
    nlat += lanes[i].nlat;
  }
  char fields[160];
  snprintf(fields, sizeof fields,
           "system=nats mode=%s producers=%d size=%ld window=%d rate=%.0f "
           "errors=%ld",
           mode, P, SIZE, W, RATE, errors);
  print_result(fields, N * P, secs, nlat ? lat : NULL, nlat);
  return errors ? 1 : 0;
}
