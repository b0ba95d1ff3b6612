// Runs a command once and reports, as one JSON line on stdout, its wall time,
// its CPU time (user + system), its peak RSS (wait4's ru_maxrss, which covers
// the child alone), and with -u TEXT the time until TEXT first appeared on its
// stdout; the command is then sent SIGINT, as a user would stop a tracer.
// Node's own spawn would add milliseconds of jitter to start-up figures of a
// hundred milliseconds. The signal waits 300 ms (bpftrace prints its banner
// before attaching, and a SIGINT in the middle can stall it for a minute),
// and a command still running 10 s later is killed.
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  const char *until = NULL;
  int i = 1;
  if (i + 1 < argc && !strcmp(argv[i], "-u")) { until = argv[i + 1]; i += 2; }
  if (i < argc && !strcmp(argv[i], "--")) i++;
  if (i >= argc) { fprintf(stderr, "usage: runstat [-u TEXT] -- cmd args...\n"); return 2; }
  int p[2];
  if (pipe(p)) return 2;
  long long t0 = now_ns();
  pid_t c = fork();
  if (c == 0) {
    dup2(p[1], 1);
    close(p[0]); close(p[1]);
    execvp(argv[i], &argv[i]);
    _exit(127);
  }
  close(p[1]);
  long long seen = -1;
  char buf[65536], tail[256] = "";
  ssize_t n;
  long long sigint_at = -1, killed = 0;
  for (;;) {
    long long now = now_ns() - t0;
    if (seen >= 0 && sigint_at < 0 && now >= seen + 300000000LL) {
      kill(c, SIGINT);
      sigint_at = now;
    }
    if (sigint_at >= 0 && !killed && now >= sigint_at + 10000000000LL) {
      kill(c, SIGKILL);
      killed = 1;
    }
    struct pollfd pfd = { p[0], POLLIN, 0 };
    if (poll(&pfd, 1, 20) == 0) continue;
    if ((n = read(p[0], buf, sizeof buf - 1)) <= 0) break;
    if (until && seen < 0) {
      buf[n] = 0;
      // A banner may straddle two reads: search the end of the last read too.
      char joined[sizeof tail + 512];
      snprintf(joined, sizeof joined, "%s%.*s", tail, (int)(n < 511 ? n : 511), buf);
      if (strstr(buf, until) || strstr(joined, until)) {
        seen = now_ns() - t0;
      }
      size_t k = n < 255 ? (size_t)n : 255;
      memcpy(tail, buf + n - k, k);
      tail[k] = 0;
    }
  }
  int st;
  struct rusage ru;
  wait4(c, &st, 0, &ru);
  long long wall = now_ns() - t0;
  long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
  printf("{\"wall_ns\":%lld,\"until_ns\":%lld,\"cpu_ns\":%lld,\"maxrss_kb\":%ld,\"status\":%d}\n", wall, seen, cpu, ru.ru_maxrss, st);
  return 0;
}
