/* weft-bench helpers: time, statistics and child processes. See bench.h. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

extern char** environ;

uint64_t weft_bench_now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static int weft_bench_double_compare(const void* a, const void* b) {
  double x = *(const double*)a;
  double y = *(const double*)b;
  return (x > y) - (x < y);
}

weft_bench_stats_t weft_bench_stats(const double* values, size_t count) {
  weft_bench_stats_t stats;
  memset(&stats, 0, sizeof(stats));
  if (count == 0) {
    return stats;
  }
  double* sorted = malloc(count * sizeof(*sorted));
  if (sorted == NULL) {
    return stats;
  }
  memcpy(sorted, values, count * sizeof(*sorted));
  qsort(sorted, count, sizeof(*sorted), weft_bench_double_compare);
  stats.count = count;
  stats.min = sorted[0];
  stats.max = sorted[count - 1];
  stats.median = count % 2 == 1 ? sorted[count / 2]
                                : (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0;
  /* Nearest rank: the smallest value with at least 90% at or below it. */
  size_t rank = (count * 9 + 9) / 10; /* ceil(0.9 * count) */
  stats.p90 = sorted[rank - 1];
  free(sorted);
  return stats;
}

bool weft_bench_self_path(char* out, size_t cap) {
  ssize_t length = readlink("/proc/self/exe", out, cap - 1);
  if (length <= 0 || (size_t)length >= cap - 1) {
    return false;
  }
  out[length] = '\0';
  return true;
}

void weft_bench_child_report(uint64_t ready_ns, bool ok, const char* format, ...) {
  char detail[256];
  va_list args;
  va_start(args, format);
  vsnprintf(detail, sizeof(detail), format, args);
  va_end(args);
  /* One line; newlines in a detail would split it. */
  for (char* p = detail; *p != '\0'; ++p) {
    if (*p == '\n' || *p == '\r') {
      *p = ' ';
    }
  }
  dprintf(WEFT_BENCH_REPORT_FD, "%" PRIu64 " %s %s\n", ready_ns, ok ? "ok" : "error", detail);
}

bool weft_bench_child_run(char* const* argv, weft_bench_child_result_t* out_result) {
  memset(out_result, 0, sizeof(*out_result));
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    snprintf(out_result->detail, sizeof(out_result->detail), "pipe2: %s", strerror(errno));
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  /* dup2 clears close-on-exec on the copy only. */
  posix_spawn_file_actions_adddup2(&actions, fds[1], WEFT_BENCH_REPORT_FD);
  pid_t pid = 0;
  out_result->spawn_ns = weft_bench_now_ns();
  int error = posix_spawn(&pid, argv[0], &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (error != 0) {
    close(fds[0]);
    snprintf(out_result->detail, sizeof(out_result->detail), "posix_spawn(%s): %s", argv[0],
             strerror(error));
    return false;
  }
  char line[512];
  size_t used = 0;
  for (;;) {
    ssize_t got = read(fds[0], line + used, sizeof(line) - 1 - used);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      break;
    }
    used += (size_t)got;
    if (used == sizeof(line) - 1) {
      break;
    }
  }
  line[used] = '\0';
  close(fds[0]);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  out_result->exit_ns = weft_bench_now_ns();

  uint64_t ready = 0;
  char verdict[16] = "";
  int consumed = 0;
  if (sscanf(line, "%" SCNu64 " %15s %n", &ready, verdict, &consumed) < 2) {
    snprintf(out_result->detail, sizeof(out_result->detail),
             "child reported nothing (exit status 0x%x)", (unsigned)wait_status);
    return true;
  }
  snprintf(out_result->detail, sizeof(out_result->detail), "%s", line + consumed);
  size_t n = strlen(out_result->detail);
  while (n > 0 && (out_result->detail[n - 1] == '\n' || out_result->detail[n - 1] == ' ')) {
    out_result->detail[--n] = '\0';
  }
  out_result->ready_ns = ready;
  out_result->ok = strcmp(verdict, "ok") == 0 && WIFEXITED(wait_status) &&
                   WEXITSTATUS(wait_status) == 0;
  if (strcmp(verdict, "ok") == 0 && !out_result->ok) {
    snprintf(out_result->detail, sizeof(out_result->detail),
             "child exited abnormally (status 0x%x) after reporting", (unsigned)wait_status);
  }
  return true;
}
