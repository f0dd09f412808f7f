/* bench/bodyfile.sh's program: what writing a spool body file costs the kernel, buffered or with O_DIRECT.
 * Creates N files of SIZE bytes in DIR the way the spool does (create, write, fsync, fsync of the directory) and keeps
 * them all (as bodies wait for delivery), then reads each back and unlinks it. Prints CPU milliseconds (user + system
 * of this process) per file for the writes and for the reads.
 *   bodyfile WRITE_DIRECT(0|1) READ_DIRECT(0|1) N SIZE DIR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void fail(const char *what) { perror(what); exit(1); }

int main(int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: %s WRITE_DIRECT READ_DIRECT N SIZE DIR\n", argv[0]); return 2; }
  int write_direct = atoi(argv[1]), read_direct = atoi(argv[2]), n = atoi(argv[3]);
  size_t size = strtoul(argv[4], NULL, 10), aligned = (size + 4095) / 4096 * 4096;
  const char *dir = argv[5];
  void *body, *staging; char *copy = malloc(size);
  if (posix_memalign(&body, 4096, aligned) || posix_memalign(&staging, 4096, aligned) || !copy) fail("alloc");
  memset(body, 'x', aligned);
  int dirfd = open(dir, O_RDONLY);
  if (dirfd < 0) fail("open dir");
  char path[4096];
  double t0 = cpu_seconds();
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/body%d", dir, i);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | (write_direct ? O_DIRECT : 0), 0600);
    if (fd < 0) fail("open");
    size_t count = write_direct ? aligned : size;
    if (pwrite(fd, body, count, 0) != (ssize_t)count) fail("pwrite");
    if (write_direct && count != size && ftruncate(fd, size)) fail("ftruncate");
    if (fsync(fd) || close(fd) || fsync(dirfd)) fail("fsync");
  }
  double t1 = cpu_seconds();
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/body%d", dir, i);
    int fd = open(path, O_RDONLY | (read_direct ? O_DIRECT : 0));
    if (fd < 0) fail("open for read");
    if (read_direct) {
      if (pread(fd, staging, aligned, 0) != (ssize_t)size) fail("pread");
      memcpy(copy, staging, size);
    } else if (pread(fd, copy, size, 0) != (ssize_t)size) fail("pread");
    close(fd);
    unlink(path);
  }
  double t2 = cpu_seconds();
  printf("write %s, read %s: %d files of %zu bytes: %.3f CPU-ms per write (with fsyncs), %.3f per read and unlink\n",
         write_direct ? "O_DIRECT" : "buffered", read_direct ? "O_DIRECT" : "buffered", n, size,
         (t1 - t0) * 1000 / n, (t2 - t1) * 1000 / n);
  return 0;
}
