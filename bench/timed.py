#!/usr/bin/env python3
"""timed.py RUNS N -- COMMAND...: runs COMMAND (a shell command line, one
argument) RUNS times and prints, for N messages a run, one line:

    WALL CPU CPU_MIN CPU_MAX RSS

the median messages per wall-clock second, the median messages per CPU
second (user + system of the command and its children, from getrusage in
microseconds, so a 1% change shows: /usr/bin/time prints CPU time in 10 ms
steps, 3% of a 0.33 s run), the lowest and highest of the per-CPU-second
rates, and the peak resident set of the largest child in KB. A run that
exits non-zero stops everything with its status.
"""
import resource
import statistics
import subprocess
import sys
import time


def main(argv):
    if len(argv) != 5 or argv[3] != "--":
        sys.exit("usage: timed.py RUNS N -- 'COMMAND'")
    runs, n, cmd = int(argv[1]), int(argv[2]), argv[4]
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.monotonic()
        rc = subprocess.call(cmd, shell=True)
        wall = time.monotonic() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if rc:
            sys.exit("timed.py: '%s' exited %d" % (cmd, rc))
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        walls.append(n / wall)
        cpus.append(n / cpu)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("%.0f %.0f %.0f %.0f %d" % (statistics.median(walls), statistics.median(cpus),
                                     min(cpus), max(cpus), rss))


if __name__ == "__main__":
    main(sys.argv)
