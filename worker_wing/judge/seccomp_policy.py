"""The judge sandbox's seccomp filters, compiled by libseccomp (no hand-written BPF here).

Two filters, stacked by the kernel (a syscall goes through only if every filter lets it):

- `sandbox_filter_bpf()`: bubblewrap applies it to the whole sandbox (`--seccomp FD`), the
  runner included. It denies what neither the runner nor any estimator needs: reading or
  steering other processes, the kernel's keyrings, programs run inside the kernel, host-wide
  settings (clocks, swap, modules, reboot), file handles that reach past the sandbox's mounts,
  and vsock, a way to the hypervisor that `--unshare-net` does not close.
- `student_filter_bpf()`: the runner installs it with `install_filter()` in the student's
  process, once that job's namespaces and mounts are built. It takes away the namespace and
  mount syscalls the runner needed for that.

Both allow by default and answer a denied call with EPERM (clone3 with ENOSYS, so that glibc
falls back to clone, whose flags a filter can see): a library probing for a feature then sees
a missing permission and carries on, where a kill would lose the job. A syscall through
another ABI (i386 `int 0x80`, x32) kills the process: the rules match x86_64 numbers only,
so that route would otherwise pass every one of them.
"""

from __future__ import annotations

import errno
import functools
import tempfile

import pyseccomp

# Grouped by why nothing in a sandbox needs them; the runner needs none of them either.
SANDBOX_DENIED: tuple[str, ...] = (
    # Reading or steering another process of the same user: the runner and other jobs.
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "pidfd_getfd",
    "kcmp",
    # Keyrings are not namespaced: a key there outlives the job and is shared with the user's
    # other processes.
    "keyctl",
    "add_key",
    "request_key",
    # Code and interfaces run inside the kernel: the largest attack surface it has, and
    # io_uring carries out its operations without passing through this filter.
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    # Loading code into the kernel or replacing the kernel.
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "query_module",
    "get_kernel_syms",
    # Hardware, and state shared by the whole machine.
    "iopl",
    "ioperm",
    "modify_ldt",
    "acct",
    "swapon",
    "swapoff",
    "reboot",
    "vhangup",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "syslog",
    "quotactl",
    "quotactl_fd",
    "sethostname",
    "setdomainname",
    # NUMA placement binds memory machine-wide (get_mempolicy, a read, stays allowed).
    "mbind",
    "set_mempolicy",
    "set_mempolicy_home_node",
    "migrate_pages",
    "move_pages",
    # A file handle opens a file by inode, past the mount tree the sandbox is built from.
    "open_by_handle_at",
    "name_to_handle_at",
    # Obsolete or debugging interfaces.
    "lookup_dcookie",
    "uselib",
    "ustat",
    "sysfs",
    "_sysctl",
    "nfsservctl",
    "fanotify_init",
)
# setns is not in that list: a job's fold init goes back to its own PID namespace with it
# after each fold (runner_confinement.py's leave_fold_pid_namespace), so that each fold gets
# a fresh PID namespace for one fork. Entering a namespace takes CAP_SYS_ADMIN in the user
# namespace that owns it, which the sandbox user has only in the namespaces the runner made;
# the student's filter denies it.

# What the runner needs to build a job (unshare, mount, umount2, and whatever else of the
# mount family it may come to use) and the student must not do once it runs.
STUDENT_DENIED: tuple[str, ...] = (
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "open_tree_attr",
    "mount_setattr",
)

# Namespace flags of clone(2). CLONE_NEWTIME (0x80) is missing on purpose: for clone() those
# bits are the exit signal, and only unshare and clone3 (both denied) can ask for a time
# namespace.
CLONE_NAMESPACE_FLAGS: dict[str, int] = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}

AF_VSOCK = 40
# Terminal ioctls that act on a terminal rather than the caller: TIOCSTI types into it (a
# command for whoever owns it), TIOCLINUX reads and drives the console.
TIOCSTI = 0x5412
TIOCLINUX = 0x541C

# x86_64 numbers of syscalls newer than the libseccomp here (2.5.4) knows by name.
_X86_64_NUMBERS_UNKNOWN_TO_LIBSECCOMP = {"open_tree_attr": 467}

_EPERM = pyseccomp.ERRNO(errno.EPERM)
_LOW_32_BITS = 0xFFFFFFFF


def _number(name: str) -> int:
    """The syscall's number, failing loudly: a rule silently left out is a hole."""
    number = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
    if number < 0:
        number = _X86_64_NUMBERS_UNKNOWN_TO_LIBSECCOMP.get(name, -1)
    if number < 0:
        raise ValueError(f"libseccomp does not know the syscall {name!r} on this architecture")
    return number


def _new_filter() -> pyseccomp.SyscallFilter:
    # The numbers, clone's argument order and the lists were checked for x86_64 only.
    if pyseccomp.system_arch() != pyseccomp.Arch.X86_64:
        raise RuntimeError("the seccomp policy is written for x86_64")
    syscall_filter = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    # Only the native architecture is in the filter (none is added): libseccomp sends every
    # other one, and x32 numbers on x86_64, to this action.
    syscall_filter.set_attr(pyseccomp.Attr.ACT_BADARCH, pyseccomp.KILL_PROCESS)
    return syscall_filter


def _compiled(syscall_filter: pyseccomp.SyscallFilter) -> bytes:
    # libseccomp writes to a file descriptor; a program is at most 4096 x 8 bytes.
    with tempfile.TemporaryFile() as out:
        syscall_filter.export_bpf(out)
        out.seek(0)
        return out.read()


def _deny_personality_changes(syscall_filter: pyseccomp.SyscallFilter) -> None:
    """Allow personality(0) (PER_LINUX, what every process runs as) and personality(0xffffffff)
    (a query); deny the rest, such as ADDR_NO_RANDOMIZE or READ_IMPLIES_EXEC.

    libseccomp takes one comparison per argument in a rule, so "neither 0 nor 0xffffffff" is
    written as a union: the kernel reads the argument as a 32-bit unsigned int, the two allowed
    values are the ones whose 32 bits are all equal, and any other value has a set bit whose
    next bit (31 wrapping to 0) is clear: walk on from a set bit until the first clear one.
    One masked comparison per bit, on the low 32 bits only as the kernel reads them.
    """
    for bit in range(32):
        pair = (1 << bit) | (1 << ((bit + 1) % 32))
        syscall_filter.add_rule(
            _EPERM, "personality", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, pair, 1 << bit)
        )


@functools.cache
def sandbox_filter_bpf() -> bytes:
    """The filter bubblewrap applies to the whole sandbox (`--seccomp FD`), as a BPF program."""
    syscall_filter = _new_filter()
    for name in SANDBOX_DENIED:
        syscall_filter.add_rule(_EPERM, _number(name))
    _deny_personality_changes(syscall_filter)
    # vsock is not namespaced: a new network namespace still reaches the hypervisor (the
    # host, on a VM) through it. The domain is an int to the kernel, which drops the upper 32
    # bits: compare only the bits it reads, or 0x1_0000_0028 would pass as something else.
    syscall_filter.add_rule(
        _EPERM, "socket", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, _LOW_32_BITS, AF_VSOCK)
    )
    for request in (TIOCSTI, TIOCLINUX):
        # The request is an unsigned int to the kernel: the same care.
        syscall_filter.add_rule(
            _EPERM, "ioctl", pyseccomp.Arg(1, pyseccomp.MASKED_EQ, _LOW_32_BITS, request)
        )
    return _compiled(syscall_filter)


@functools.cache
def student_filter_bpf() -> bytes:
    """The filter the runner stacks on the sandbox's for the student's process.

    It holds only what it adds: the kernel runs both, so the sandbox filter's denials stay.
    """
    syscall_filter = _new_filter()
    for name in STUDENT_DENIED:
        syscall_filter.add_rule(_EPERM, _number(name))
    # fork(), threads and subprocesses are clone() without namespace flags (x86_64: flags in
    # the first argument); one rule per flag, any of them set is refused.
    for flag in CLONE_NAMESPACE_FLAGS.values():
        syscall_filter.add_rule(_EPERM, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    # clone3 passes its flags in memory, where a filter cannot look. ENOSYS makes glibc fall
    # back to clone (as under Docker's default profile).
    syscall_filter.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    return _compiled(syscall_filter)
