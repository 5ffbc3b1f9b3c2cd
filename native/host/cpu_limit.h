/* How many CPUs this process may really run on, for the spin gate (spin_gate.h; included by it).

   The online CPUs are not that number in a container: a cgroup CPU quota (cgroup v2 cpu.max
   "QUOTA PERIOD", v1 cpu.cfs_quota_us / cpu.cfs_period_us) lets the process use QUOTA/PERIOD CPUs
   per period however many are online, and an affinity mask (taskset, a cpuset, which the kernel
   applies to the mask, worker_cpu_affinity) names the CPUs it may use at all. A spin "on a free
   core" the quota or the mask does not give us is taken from our own workers. So the gate counts
   the smallest of the three; a quota rounds up (1.5 CPUs lets two threads run at once, part of
   the time).

   The quota is read once per process (limits are set when a container starts); the mask at every
   sample of the gate (spin_gate.h, at most every 2 ms: one system call), because
   worker_cpu_affinity pins the worker's threads after its plugins were loaded.
   TRESTY_FFI_GATE_CORES=N replaces the online count and the quota (measurements; the mask still
   applies); TRESTY_FFI_GATE_CGROUP_ROOT=DIR reads DIR/proc/self/cgroup and DIR/sys/fs/cgroup/...
   instead (tests: a made-up v1 or v2 tree). */
#ifndef TRESTY_CPU_LIMIT_H
#define TRESTY_CPU_LIMIT_H

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ceil(quota / period) CPUs, or 0 for no limit ("max", -1, unreadable, nonsense). */
static long quota_cpus(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return 0;
  return (long)((quota + period - 1) / period);
}

/* A file in cpu.max's format: "QUOTA PERIOD" or "max PERIOD". */
static long cpu_max_file(const char *path) {
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  char q[32] = "";
  long long period = 0;
  int n = fscanf(f, "%31s %lld", q, &period);
  fclose(f);
  if (n != 2 || !strcmp(q, "max")) return 0;
  return quota_cpus(atoll(q), period);
}

/* cgroup v1's pair of files in dir. */
static long cfs_quota_dir(const char *dir) {
  char path[512];
  long long v[2] = {0, 0};
  const char *names[2] = {"cpu.cfs_quota_us", "cpu.cfs_period_us"};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    if (fscanf(f, "%lld", &v[i]) != 1) v[i] = 0;
    fclose(f);
  }
  return quota_cpus(v[0], v[1]);
}

/* The smallest limit a and b set, 0 meaning none. */
static long min_limit(long a, long b) {
  return !a ? b : !b ? a : a < b ? a : b;
}

/* The tightest quota on cgroup `path` under the hierarchy mounted at `mount`, and on its parents
   (a parent's quota binds its children too). Without a cgroup namespace /proc/self/cgroup names
   the path on the host while the container sees its own cgroup at the mount: the walk up reaches
   the mount itself, which is then ours. */
static long quota_up(const char *mount, const char *path, int v2) {
  char dir[512], file[600];
  size_t root = strlen(mount), n;
  long limit = 0;
  snprintf(dir, sizeof dir, "%s%s", mount, path);
  n = strlen(dir);
  for (;;) {
    while (n > root && dir[n - 1] == '/') dir[--n] = 0;
    if (v2) {
      snprintf(file, sizeof file, "%s/cpu.max", dir);
      limit = min_limit(limit, cpu_max_file(file));
    } else {
      limit = min_limit(limit, cfs_quota_dir(dir));
    }
    if (n <= root) return limit;
    while (n > root && dir[n - 1] != '/') dir[--n] = 0; /* up one level */
  }
}

/* Whether v1's controller list "cpu,cpuacct" holds "cpu". */
static int has_cpu_controller(const char *list, size_t len) {
  for (const char *p = list, *end = list + len; p < end;) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
    if (n == 3 && !memcmp(p, "cpu", 3)) return 1;
    p += n + 1;
  }
  return 0;
}

/* CPUs the cgroup quota gives this process, 0 for no limit. /proc/self/cgroup's lines are
   "0::PATH" (v2; mounted at /sys/fs/cgroup, or /sys/fs/cgroup/unified in the hybrid layout) and
   "N:CONTROLLERS:PATH" (v1; cpu is mounted at /sys/fs/cgroup/CONTROLLERS, often also as
   /sys/fs/cgroup/cpu). The usual mount points, not /proc/self/mountinfo: what container runtimes
   and systemd use. */
static long cgroup_cpus(void) {
  const char *root = getenv("TRESTY_FFI_GATE_CGROUP_ROOT");
  if (!root) root = "";
  char line[1024], mount[512], v2[2][512], v1cpu[512];
  snprintf(line, sizeof line, "%s/proc/self/cgroup", root);
  snprintf(v2[0], sizeof v2[0], "%s/sys/fs/cgroup", root);
  snprintf(v2[1], sizeof v2[1], "%s/sys/fs/cgroup/unified", root);
  snprintf(v1cpu, sizeof v1cpu, "%s/sys/fs/cgroup/cpu", root);
  FILE *f = fopen(line, "re");
  if (!f) return 0;
  long limit = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    const char *path = c2 + 1;
    if (c2 == c1 + 1) { /* v2 */
      limit = min_limit(limit, quota_up(v2[0], path, 1));
      limit = min_limit(limit, quota_up(v2[1], path, 1));
    } else if (has_cpu_controller(c1 + 1, (size_t)(c2 - c1 - 1))) {
      int len = snprintf(mount, sizeof mount, "%s/%.*s", v2[0], (int)(c2 - c1 - 1), c1 + 1);
      if (len < 0 || (size_t)len >= sizeof mount) continue; /* no such mount point */
      limit = min_limit(limit, quota_up(mount, path, 0));
      if (strcmp(mount, v1cpu) != 0) limit = min_limit(limit, quota_up(v1cpu, path, 0));
    }
  }
  fclose(f);
  return limit;
}

/* The CPUs the process may use apart from its mask: TRESTY_FFI_GATE_CORES, or the online CPUs
   under the cgroup's quota. At least 1. */
static long cpu_limit_fixed(void) {
  const char *v = getenv("TRESTY_FFI_GATE_CORES");
  long n = v && *v ? atol(v) : 0;
  if (n <= 0) {
    n = sysconf(_SC_NPROCESSORS_ONLN);
    n = min_limit(n > 0 ? n : 1, cgroup_cpus());
  }
  return n > 0 ? n : 1;
}

/* The CPUs the calling thread and thread `other` may use between them, or 0 when the calling
   thread's mask cannot be read. A poller bound apart from its caller (ffi_poller_cpu_affinity next)
   has one CPU of its own, and the caller's is another: two, not one. */
static long affinity_cpus(long other) {
  cpu_set_t set, theirs;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  if (other > 0 && sched_getaffinity((pid_t)other, sizeof theirs, &theirs) == 0) CPU_OR(&set, &set, &theirs);
  return CPU_COUNT(&set);
}

#endif
