/* fsyncload: the disk's own limit for bench/compare.sh: appends BYTES-sized
 * records to FILE, each followed by fdatasync, for N records.
 *   fsyncload FILE N BYTES
 * Prints one RESULT line (syncs per second, latency percentiles). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "load_common.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: fsyncload FILE N BYTES\n");
    return 2;
  }
  const char* path = argv[1];
  long n = atol(argv[2]), bytes = atol(argv[3]);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    perror("fsyncload: open");
    return 1;
  }
  char* buf = malloc(bytes);
  memset(buf, 'x', bytes);
  double* lat = malloc(sizeof(double) * n);
  double t0 = mono_s();
  for (long i = 0; i < n; i++) {
    double a = mono_s();
    if (pwrite(fd, buf, bytes, (off_t)i * bytes) != bytes || fdatasync(fd)) {
      perror("fsyncload: write");
      return 1;
    }
    lat[i] = mono_s() - a;
  }
  double secs = mono_s() - t0;
  close(fd);
  unlink(path);
  char fields[96];
  snprintf(fields, sizeof fields, "system=disk mode=fdatasync size=%ld", bytes);
  print_result(fields, n, secs, lat, n);
  return 0;
}
