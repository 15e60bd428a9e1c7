#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the fixture procfs trees the parser tests read.

proc-report/ mirrors the second user report: a 31 GiB workstation with 63 GiB
of swap almost used up, three rustc of one release build, a second cargo on the
same workspace, test binaries, and hostile process names. proc-nopsi/ is an
old kernel: no /proc/pressure, no MemAvailable, no oom_kill counter.
proc-scope/ and scope-{start,oom,throttled}/ are one build step in its own
systemd user scope (cgroup v2) as it started and as it ended, once killed at
its MemoryMax and once only throttled at its MemoryHigh; probe-*/ are the
files the user-scope probe looks at on a systemd desktop with cgroup v2, one
where memory is not delegated, a cgroup v1 machine and one without systemd.
budget-*/ are the memory cgroups the budget reads: v1 with a limit, without one,
with the limit set on a parent (hierarchical), garbage files, and a container's
view of its own cgroup; v2 with memory.max on a parent, memory.high tighter than
memory.max, "max" everywhere, garbage files, and a cgroup namespace's root.
Run it again after changing it; the output is committed."""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))


def stat_line(pid, comm, state, ppid, flags=0x400000, utime=0, stime=0, threads=1, start=1000, rss_pages=0):
    # proc(5) fields 1..52; only the ones the parser reads carry meaning.
    fields = [str(pid), "(" + comm + ")", state, str(ppid), str(pid), str(pid), "0", "-1", str(flags),
              "10", "0", "0", "0", str(utime), str(stime), "0", "0", "20", "0", str(threads), "0",
              str(start), "1000000", str(rss_pages)]
    fields += ["18446744073709551615"] + ["0"] * 27
    assert len(fields) == 52
    return " ".join(fields) + "\n"


def write(path, data, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def status_text(name, state, pid, ppid, tgid=None):
    # proc(5) status: the kernel escapes a newline in the name as "\n".
    return (b"Name:\t" + name.replace(b"\n", b"\\n") + b"\nState:\t" + state.encode() +
            f"\nTgid:\t{tgid or pid}\nPid:\t{pid}\nPPid:\t{ppid}\n".encode())


def process(root, pid, comm, state="S", ppid=1, argv=None, exe=None, cwd=None, rss_mib=0, comm_bytes=None,
            environ=None, cgroup=None, **kw):
    d = os.path.join(root, str(pid))
    os.makedirs(d, exist_ok=True)
    line = stat_line(pid, "@@COMM@@", state, ppid, rss_pages=rss_mib * 256, **kw).encode()
    name = comm_bytes if comm_bytes is not None else comm.encode()
    write(os.path.join(d, "stat"), line.replace(b"@@COMM@@", name), "wb")
    write(os.path.join(d, "status"), status_text(name, state, pid, ppid), "wb")
    if cgroup is not None:
        write(os.path.join(d, "cgroup"), cgroup)
    write(os.path.join(d, "cmdline"), b"".join(a.encode() + b"\0" for a in (argv or [])), "wb")
    if environ is not None:
        write(os.path.join(d, "environ"), b"".join(e.encode() + b"\0" for e in environ), "wb")
    if exe:
        os.symlink(exe, os.path.join(d, "exe"))
    if cwd:
        os.symlink(cwd, os.path.join(d, "cwd"))


def report_tree():
    root = os.path.join(HERE, "proc-report")
    shutil.rmtree(root, ignore_errors=True)
    GiB = 1024 * 1024  # in kB
    write(os.path.join(root, "meminfo"),
          f"MemTotal:       {31 * GiB} kB\nMemFree:          204800 kB\nMemAvailable:    {int(1.4 * GiB)} kB\n"
          "Buffers:           10240 kB\nCached:           819200 kB\nSwapCached:        40960 kB\n"
          "Shmem:             65536 kB\nSReclaimable:      102400 kB\n"
          f"SwapTotal:      {63 * GiB} kB\nSwapFree:       {int(7.7 * GiB)} kB\n"
          "Zswap:            524288 kB\nZswapped:        1572864 kB\n"
          f"CommitLimit:    {78 * GiB} kB\nCommitted_AS:   {90 * GiB} kB\n")
    write(os.path.join(root, "pressure", "memory"),
          "some avg10=42.50 avg60=30.10 avg300=12.00 total=987654321\n"
          "full avg10=12.25 avg60=8.00 avg300=2.50 total=123456789\n")
    write(os.path.join(root, "vmstat"), "nr_free_pages 51200\npgfault 100\noom_kill 3\npswpin 7\n")
    write(os.path.join(root, "stat"), "cpu  1 2 3 4\nbtime 1766944800\nprocesses 4000\n")
    write(os.path.join(root, "uptime"), "5000.00 9000.00\n")

    ws = "/home/dev/pyphi"
    fs = os.path.join(HERE, "fs-report")
    shutil.rmtree(fs, ignore_errors=True)
    write(os.path.join(fs, ws.lstrip("/"), "Cargo.toml"), '[workspace]\nmembers = ["crates/*"]\n')
    write(os.path.join(fs, ws.lstrip("/"), "crates", "core", "Cargo.toml"), '[package]\nname = "pyphi-core"\n')
    scope = os.path.join(fs, "sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope")
    write(os.path.join(scope, "memory.events"), "low 0\nhigh 0\nmax 40\noom 3\noom_kill 2\n")
    write(os.path.join(scope, "memory.peak"), f"{30 * 1024 ** 3}\n")
    write(os.path.join(scope, "memory.max"), f"{31 * 1024 ** 3}\n")
    v1 = os.path.join(fs, "sys/fs/cgroup/memory/build")
    write(os.path.join(v1, "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    write(os.path.join(v1, "memory.max_usage_in_bytes"), f"{6 * 1024 ** 3}\n")
    write(os.path.join(v1, "memory.limit_in_bytes"), "9223372036854771712\n")  # unlimited

    process(root, 1, "systemd", argv=["/sbin/init"], exe="/usr/lib/systemd/systemd", cwd="/", rss_mib=12)
    process(root, 2, "kthreadd", ppid=0, flags=0x208040)
    process(root, 3, "kworker/0:1H", state="I", ppid=2, flags=0x4208060)
    # Hostile names: spaces and parentheses, a ")" and a newline, bytes that are not UTF-8.
    process(root, 100, "my (odd) proc", argv=["./my (odd) proc", "--flag"], exe="/opt/x/my (odd) proc",
            cwd="/tmp", rss_mib=3)
    process(root, 101, "a) b\n(c", argv=["weird"], exe="/usr/bin/weird", cwd="/", rss_mib=1)
    process(root, 102, "", comm_bytes=b"caf\xe9\xff", argv=[], exe=None, cwd=None, rss_mib=1)
    process(root, 103, "defunct", state="Z", ppid=100)
    write(os.path.join(root, "104", "cmdline"), "gone\0")  # vanished mid-scan: its stat is already gone
    # A release build with three rustc, a build script and a link step.
    process(root, 200, "cargo", ppid=1, argv=["cargo", "build", "--example", "pyphi_validation", "--features",
            "pyphi", "--release"], exe="/home/dev/.rustup/toolchains/stable/bin/cargo", cwd=ws + "/crates/core",
            rss_mib=150, start=400000, environ=["HOME=/home/dev", "CARGO_BUILD_JOBS=1"])
    # rustc 201 runs in a cgroup v2 scope that saw two OOM kills, cargo 300
    # in a v1 memory cgroup (fs-report/sys/fs/cgroup holds both).
    process(root, 201, "rustc", ppid=200, argv=["rustc", "--crate-name", "pyphi", "--edition=2021"],
            exe="/home/dev/.rustup/toolchains/stable/bin/rustc", cwd=ws, rss_mib=3000, start=450000,
            cgroup="0::/user.slice/user-1000.slice/session-2.scope\n")
    process(root, 202, "rustc", ppid=200, argv=["rustc", "--crate-name", "numpy"],
            exe="/home/dev/.rustup/toolchains/stable/bin/rustc", cwd=ws, rss_mib=2500, start=450100)
    process(root, 203, "cc", ppid=201, argv=["cc", "-m64", "x.o", "-o", "pyphi_validation"], exe="/usr/bin/x86_64-linux-gnu-gcc-12",
            cwd=ws, rss_mib=40, start=460000)
    process(root, 204, "build-script-bu", ppid=200, argv=[ws + "/target/release/build/pyo3-ffi-1a2b/build-script-build"],
            exe=ws + "/target/release/build/pyo3-ffi-1a2b/build-script-build", cwd=ws, rss_mib=20, start=440000)
    # A second cargo on the same workspace (from another terminal), with a target dir from its environment.
    process(root, 300, "cargo", ppid=1, argv=["cargo", "test", "--release"],
            exe="/home/dev/.cargo/bin/cargo", cwd=ws, rss_mib=90, start=420000,
            environ=["CARGO_TARGET_DIR=/home/dev/pyphi/target"],
            cgroup="13:pids:/build\n12:memory:/build\n0::/build\n")
    process(root, 301, "rustc", ppid=300, argv=["rustc", "--crate-name", "pyphi"], exe="/usr/bin/rustc", cwd=ws,
            rss_mib=1000, start=470000)
    # Test processes: a test binary under deps/ and a nextest run with a child.
    process(root, 400, "pyphi-0123456789abcdef"[:15], ppid=1,
            argv=[ws + "/target/release/deps/pyphi-0123456789abcdef", "sweep"],
            exe=ws + "/target/release/deps/pyphi-0123456789abcdef", cwd=ws, rss_mib=1200, start=300000)
    process(root, 500, "cargo-nextest", ppid=1, argv=["cargo-nextest", "nextest", "run"],
            exe="/home/dev/.cargo/bin/cargo-nextest", cwd="/home/dev/other", rss_mib=30, start=310000)
    process(root, 501, "topology_check", ppid=500, argv=["/home/dev/other/target/debug/topology_check"],
            exe="/home/dev/other/bin/topology_check", cwd="/home/dev/other", rss_mib=800, start=320000)
    process(root, 502, "sh", ppid=501, argv=["sh", "-c", "sleep 100"], exe="/usr/bin/dash", cwd="/",
            rss_mib=1, start=330000)
    # A browser the user cares about: never a build process.
    process(root, 600, "firefox-esr", ppid=1, argv=["/usr/lib/firefox-esr/firefox-esr"],
            exe="/usr/lib/firefox-esr/firefox-esr", cwd="/home/dev", rss_mib=2048, threads=90, start=100000)


def nopsi_tree():
    root = os.path.join(HERE, "proc-nopsi")
    shutil.rmtree(root, ignore_errors=True)
    write(os.path.join(root, "meminfo"),
          "MemTotal:        8000000 kB\nMemFree:         1000000 kB\nBuffers:          100000 kB\n"
          "Cached:          2000000 kB\nSReclaimable:     400000 kB\nSwapTotal:             0 kB\n"
          "SwapFree:              0 kB\n")
    write(os.path.join(root, "vmstat"), "nr_free_pages 250000\n")
    write(os.path.join(root, "stat"), "cpu  1 2 3 4\nbtime 1700000000\n")
    write(os.path.join(root, "uptime"), "100.00 150.00\n")
    process(root, 1, "init", argv=["/sbin/init"], exe="/sbin/init", cwd="/", rss_mib=2)


SCOPE_SLICE = "user.slice/user-1000.slice/user@1000.service/app.slice"
SCOPE = SCOPE_SLICE + "/headroom-20261202-061813-4242-ab12-0.scope"
UNLIMITED_SCOPE = SCOPE_SLICE + "/headroom-20261202-061900-4243-cd34-0.scope"
SESSION = "user.slice/user-1000.slice/session-2.scope"


def memory_events(high=0, max=0, oom=0, oom_kill=0):
    return f"low 0\nhigh {high}\nmax {max}\noom {oom}\noom_kill {oom_kill}\noom_group_kill 0\n"


def scope_trees():
    proc = os.path.join(HERE, "proc-scope")
    shutil.rmtree(proc, ignore_errors=True)
    # 4242: the build step in its scope; 4243: one in a scope without limits;
    # 4244: the same step read a moment too early, still in the session's cgroup.
    write(os.path.join(proc, "4242", "cgroup"), "0::/" + SCOPE + "\n")
    write(os.path.join(proc, "4243", "cgroup"), "0::/" + UNLIMITED_SCOPE + "\n")
    write(os.path.join(proc, "4244", "cgroup"), "0::/" + SESSION + "\n")
    G = 1024 ** 3
    states = {
        # As the step started: MemoryHigh 3 GiB, MemoryMax 4 GiB, nothing counted yet.
        "scope-start": dict(events=memory_events(), peak=48 * 1024 ** 2),
        # Killed at MemoryMax: throttled 12 times first, reclaim forced at the limit 5 times.
        "scope-oom": dict(events=memory_events(high=12, max=5, oom=1, oom_kill=1), peak=4 * G),
        # Succeeded after being throttled 7 times, never near MemoryMax.
        "scope-throttled": dict(events=memory_events(high=7), peak=3 * G + 100 * 1024 ** 2),
    }
    for name, state in states.items():
        root = os.path.join(HERE, name)
        shutil.rmtree(root, ignore_errors=True)
        cg = os.path.join(root, "sys/fs/cgroup")
        d = os.path.join(cg, SCOPE)
        write(os.path.join(d, "memory.events"), state["events"])
        write(os.path.join(d, "memory.peak"), f"{state['peak']}\n")
        write(os.path.join(d, "memory.high"), f"{3 * G}\n")
        write(os.path.join(d, "memory.max"), f"{4 * G}\n")
        u = os.path.join(cg, UNLIMITED_SCOPE)
        write(os.path.join(u, "memory.events"), memory_events(oom_kill=0))
        write(os.path.join(u, "memory.peak"), f"{2 * G}\n")
        write(os.path.join(u, "memory.high"), "max\n")
        write(os.path.join(u, "memory.max"), "max\n")
        # The login session's cgroup has its own history: none of it is the build's.
        s = os.path.join(cg, SESSION)
        write(os.path.join(s, "memory.events"), memory_events(high=9, max=2, oom=4, oom_kill=4))
        write(os.path.join(s, "memory.max"), "max\n")


def probe_trees():
    def tree(name, controllers, delegated, v1_memory, systemd, manager):
        root = os.path.join(HERE, name)
        shutil.rmtree(root, ignore_errors=True)
        cg = os.path.join(root, "sys/fs/cgroup")
        if controllers is not None:
            write(os.path.join(cg, "cgroup.controllers"), controllers + "\n")
        if delegated is not None:
            write(os.path.join(cg, "user.slice/user-1000.slice/user@1000.service/cgroup.controllers"),
                  delegated + "\n")
        if v1_memory:
            write(os.path.join(cg, "memory", "memory.limit_in_bytes"), "9223372036854771712\n")
            # A hybrid layout: a unified hierarchy without the memory controller.
            write(os.path.join(cg, "unified", "cgroup.controllers"), "\n")
        if systemd:
            write(os.path.join(root, "run/systemd/system/.present"), "")
        if manager:
            # Stands in for the user manager's socket (a repository holds no sockets).
            write(os.path.join(root, "run/user/1000/systemd/private"), "")
    tree("probe-v2", "cpuset cpu io memory hugetlb pids rdma misc", "cpu memory pids", False, True, True)
    tree("probe-nodelegate", "cpuset cpu io memory pids", "cpu pids", False, True, True)
    tree("probe-v1", None, None, True, True, True)
    tree("probe-nosystemd", None, None, True, False, False)


def budget_trees():
    G = 1024 ** 3
    M = 1024 ** 2
    UNLIMITED_V1 = 9223372036854771712

    def meminfo(root, total_gib, available_gib):
        kib = 1024 * 1024
        write(os.path.join(root, "meminfo"),
              f"MemTotal:       {total_gib * kib} kB\nMemFree:        {available_gib * kib // 2} kB\n"
              f"MemAvailable:   {available_gib * kib} kB\nBuffers:        1024 kB\nCached:         {kib} kB\n"
              "SwapTotal:      0 kB\nSwapFree:       0 kB\n")
        write(os.path.join(root, "stat"), "cpu  1 2 3 4\nbtime 1700000000\n")

    def v1_group(d, limit, usage, inactive, hierarchical):
        write(os.path.join(d, "memory.limit_in_bytes"), f"{limit}\n")
        write(os.path.join(d, "memory.usage_in_bytes"), f"{usage}\n")
        write(os.path.join(d, "memory.max_usage_in_bytes"), f"{usage}\n")
        write(os.path.join(d, "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
        write(os.path.join(d, "memory.stat"),
              f"cache {inactive}\nrss {usage - inactive}\ninactive_file {inactive}\n"
              f"hierarchical_memory_limit {hierarchical}\nhierarchical_memsw_limit {UNLIMITED_V1}\n"
              f"total_cache {inactive}\ntotal_rss {usage - inactive}\ntotal_inactive_file {inactive}\n")

    # v1, the host's view: a limited CI group, an unlimited one, a container
    # whose limit is on its parent, and a group of garbage files.
    root = os.path.join(HERE, "budget-v1")
    shutil.rmtree(root, ignore_errors=True)
    proc = os.path.join(root, "proc")
    write(os.path.join(proc, "10", "cgroup"), "4:memory:/ci-limited\n1:cpu:/\n0::/\n")
    write(os.path.join(proc, "11", "cgroup"), "4:memory:/unlimited\n0::/\n")
    write(os.path.join(proc, "12", "cgroup"), "4:memory:/docker/abc123/build\n0::/\n")
    write(os.path.join(proc, "13", "cgroup"), "4:memory:/garbage\n0::/\n")
    write(os.path.join(proc, "14", "cgroup"), "4:memory:/../../etc\n")  # never followed out of the mount
    mem = os.path.join(root, "sys/fs/cgroup/memory")
    v1_group(mem, UNLIMITED_V1, 20 * G, 4 * G, UNLIMITED_V1)
    v1_group(os.path.join(mem, "ci-limited"), 2 * G, 3 * G // 2, 512 * M, 2 * G)
    v1_group(os.path.join(mem, "unlimited"), UNLIMITED_V1, 3 * G, G, UNLIMITED_V1)
    v1_group(os.path.join(mem, "docker"), UNLIMITED_V1, 3 * G, G, UNLIMITED_V1)
    v1_group(os.path.join(mem, "docker/abc123"), 8 * G, 3 * G, G, 8 * G)
    v1_group(os.path.join(mem, "docker/abc123/build"), UNLIMITED_V1, 3 * G, G, 8 * G)
    g = os.path.join(mem, "garbage")
    write(os.path.join(g, "memory.limit_in_bytes"), "lots\n")
    write(os.path.join(g, "memory.usage_in_bytes"), "-5\n")
    write(os.path.join(g, "memory.max_usage_in_bytes"), "12abc\n")
    write(os.path.join(g, "memory.oom_control"), "oom_kill many\n")
    write(os.path.join(g, "memory.stat"), b"\x00\xff total_inactive_file\nhierarchical_memory_limit -1\n", "wb")

    # v1 inside a container without its own cgroup namespace: /proc names
    # the host's path, the mount shows the container's group at its root.
    root = os.path.join(HERE, "budget-v1-container")
    shutil.rmtree(root, ignore_errors=True)
    proc = os.path.join(root, "proc")
    meminfo(proc, 64, 40)
    write(os.path.join(proc, "self", "cgroup"), "4:memory:/docker/fedcba\n0::/\n")
    v1_group(os.path.join(root, "sys/fs/cgroup/memory"), 4 * G, 3 * G, G, 4 * G)

    def v2_group(d, max="max", high="max", current=None, inactive=0):
        write(os.path.join(d, "cgroup.controllers"), "cpu memory pids\n")
        write(os.path.join(d, "memory.max"), f"{max}\n")
        write(os.path.join(d, "memory.high"), f"{high}\n")
        if current is not None:
            write(os.path.join(d, "memory.current"), f"{current}\n")
            write(os.path.join(d, "memory.peak"), f"{current}\n")
            write(os.path.join(d, "memory.events"), memory_events())
            write(os.path.join(d, "memory.stat"),
                  f"anon {current - inactive}\nfile {inactive}\nactive_anon {current - inactive}\n"
                  f"inactive_anon 0\nactive_file 0\ninactive_file {inactive}\nunevictable 0\n")

    # v2: a pod's limit on its parent, memory.high under memory.max, "max"
    # everywhere, and garbage.
    root = os.path.join(HERE, "budget-v2")
    shutil.rmtree(root, ignore_errors=True)
    proc = os.path.join(root, "proc")
    meminfo(proc, 64, 40)
    write(os.path.join(proc, "20", "cgroup"), "0::/kubepods/pod1/ctr\n")
    write(os.path.join(proc, "21", "cgroup"), "0::/user.slice/app\n")
    write(os.path.join(proc, "22", "cgroup"), "0::/free/one\n")
    write(os.path.join(proc, "23", "cgroup"), "0::/garbage\n")
    write(os.path.join(proc, "self", "cgroup"), "0::/kubepods/pod1/ctr\n")
    cg = os.path.join(root, "sys/fs/cgroup")
    write(os.path.join(cg, "cgroup.controllers"), "cpu memory pids\n")  # the root has no memory.max
    v2_group(os.path.join(cg, "kubepods"))
    v2_group(os.path.join(cg, "kubepods/pod1"), max=4 * G)
    v2_group(os.path.join(cg, "kubepods/pod1/ctr"), current=3 * G, inactive=512 * M)
    v2_group(os.path.join(cg, "user.slice"), max=8 * G)
    v2_group(os.path.join(cg, "user.slice/app"), high=6 * G, current=2 * G)
    v2_group(os.path.join(cg, "free"))
    v2_group(os.path.join(cg, "free/one"), current=G)
    g = os.path.join(cg, "garbage")
    write(os.path.join(g, "cgroup.controllers"), "memory\n")
    write(os.path.join(g, "memory.max"), "12abc\n")
    write(os.path.join(g, "memory.high"), "-1\n")
    write(os.path.join(g, "memory.current"), "99999999999999999999999\n")
    write(os.path.join(g, "memory.events"), "high lots\nmax\n")
    write(os.path.join(g, "memory.stat"), b"inactive_file \xff\xfe\n\x00\n", "wb")

    # v2 in a container with its own cgroup namespace: "0::/", the limit on
    # the root it sees, and the runtime's mark on the file system.
    root = os.path.join(HERE, "budget-v2-ns")
    shutil.rmtree(root, ignore_errors=True)
    proc = os.path.join(root, "proc")
    meminfo(proc, 64, 40)
    write(os.path.join(proc, "self", "cgroup"), "0::/\n")
    v2_group(os.path.join(root, "sys/fs/cgroup"), max=8 * G, current=5 * G, inactive=G)
    write(os.path.join(root, ".dockerenv"), "")


if __name__ == "__main__":
    report_tree()
    nopsi_tree()
    scope_trees()
    probe_trees()
    budget_trees()
