/* Shared by the peer load generators (natsload.c, rmqload.c): timing,
 * latency percentiles and the one RESULT line bench/compare.sh parses. */
#ifndef TRM_BENCH_PEERS_LOAD_COMMON_H_
#define TRM_BENCH_PEERS_LOAD_COMMON_H_
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double mono_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Sleeps until t, unless t is less than a millisecond away: a sleep per
 * message costs a system call and the timer's slack (about 50 us), which
 * would cap a paced sender near 20,000 msg/s. Senders keep the average rate
 * and run at most 1 ms ahead. */
static inline void sleep_until(double t) {
  double d = t - mono_s();
  if (d <= 1e-3) return;
  struct timespec s = {(time_t)d, (long)((d - (time_t)d) * 1e9)};
  nanosleep(&s, NULL);
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Percentile of n sorted samples, as trm_load computes it. */
static inline double pct(const double* s, long n, double p) {
  if (n <= 0) return 0;
  long i = (long)(p * n);
  if (i >= n) i = n - 1;
  return s[i];
}

/* Prints "RESULT key=value ..." with msg/s and, when lat is given (seconds,
 * n samples, sorted here), p50/p99/p99.9 in microseconds. */
static inline void print_result(const char* fields, long n, double secs,
                                double* lat, long nlat) {
  printf("RESULT %s n=%ld secs=%.3f msgps=%.0f", fields, n, secs, n / secs);
  if (lat && nlat > 0) {
    qsort(lat, nlat, sizeof(double), cmp_double);
    printf(" p50_us=%.0f p99_us=%.0f p999_us=%.0f", pct(lat, nlat, 0.5) * 1e6,
           pct(lat, nlat, 0.99) * 1e6, pct(lat, nlat, 0.999) * 1e6);
  }
  printf("\n");
  fflush(stdout);
}

/* The arguments both load generators share, from argv[first] on:
 * MODE P N [SIZE [W [RATE]]]. Returns 0 when MODE P N are there. */
typedef struct {
  const char* mode;
  int producers, window;
  long count, size;
  double rate;
} LoadArgs;
static inline int parse_load_args(int argc, char** argv, int first,
                                  LoadArgs* a) {
  if (argc < first + 3) return 1;
  a->mode = argv[first];
  a->producers = atoi(argv[first + 1]);
  a->count = atol(argv[first + 2]);
  a->size = argc > first + 3 ? atol(argv[first + 3]) : 16;
  a->window = argc > first + 4 ? atoi(argv[first + 4]) : 1;
  a->rate = argc > first + 5 ? atof(argv[first + 5]) : 0;
  if (a->size < 16) a->size = 16; /* room for the send time and number */
  return a->producers < 1 || a->count < 1 || a->window < 1;
}

/* Each message starts with its send time (CLOCK_MONOTONIC, one machine) so
 * a consumer in the same process measures end-to-end latency. */
static inline void stamp(char* buf, double t) { memcpy(buf, &t, sizeof t); }
static inline double stamp_of(const void* buf) {
  double t;
  memcpy(&t, buf, sizeof t);
  return t;
}
#endif
