"""A build-like mix of other work on the machine, for benchmarks that must hold on a busy one.

  - a process-spawning loop (fork/exec of /bin/true, as a build's compiler calls do),
  - a reader of many small files (a tree of 20,000 files of 1-8 KiB, read again and again),
  - a disk writer (256 MiB written and fsync'ed in a loop),
  - CPU hogs (busy loops), as many as the machine has cores.

  procs = start(workdir); ...; stop(procs)
"""
import os
import signal
import subprocess


def start(work, hogs=None):
    tree = os.path.join(work, "noise-files")
    for i in range(20000):
        d = os.path.join(tree, str(i // 500))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i}.txt"), "wb") as f:
            f.write(os.urandom(1024 + (i * 7919) % 7168))
    cmds = [
        "while :; do /bin/true; done",
        f"while :; do find {tree} -type f -exec cat {{}} + >/dev/null; done",
        f"while :; do dd if=/dev/zero of={work}/noise.bin bs=1M count=256 conv=fsync status=none; done",
    ]
    cmds += ["while :; do :; done"] * (hogs if hogs is not None else (os.cpu_count() or 2))
    return [subprocess.Popen(["bash", "-c", c], start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in cmds]


def stop(procs):
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for p in procs:
        p.wait()
