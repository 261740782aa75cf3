"""A seccomp filter that takes System V shared memory away from learner code.

Why: a System V shared-memory segment (``shmget``) holds memory that belongs to no process.
Once detached it is in no process's resident size, in no open file and in no folder the
watchdog reads, so learner code could hold gigabytes past the memory limit for the whole run
(measured: ten detached segments of 512 MB, 5.25 GB against a 4 GB limit, unseen) and, in
process isolation as an ordinary user (no IPC namespace of its own), even after the run.
Neither learner code nor TensorFlow needs it: Python's ``multiprocessing`` shares memory
through POSIX shared memory in ``/dev/shm``, which the sandbox counts. So ``shmget`` fails
with ``EPERM``; with no segment ever made, ``shmat`` and ``shmctl`` have nothing to work on.
System V message queues (``msgget``) are refused the same way. Every other system call is
allowed.

The filter is a classic BPF program (a few ``struct sock_filter`` instructions, built here
with ``struct``, no library needed). The limits wrapper installs it (``install``) before it
runs the child, in both isolations; the kernel keeps it on every process started after that,
and no process can remove it. It matches the system call numbers of the architectures below
(a 64-bit process can also run 32-bit code, so their 32-bit companions are covered too); on
any other architecture it allows everything.
"""

from __future__ import annotations

import ctypes
import errno
import struct
from collections.abc import Mapping

# Classic BPF opcodes (linux/bpf_common.h) and seccomp's return values (linux/seccomp.h).
BPF_LD_W_ABS = 0x00 | 0x00 | 0x20  # BPF_LD | BPF_W | BPF_ABS: load 32 bits of seccomp_data
BPF_JEQ_K = 0x05 | 0x10 | 0x00  # BPF_JMP | BPF_JEQ | BPF_K: compare with a constant
BPF_RET_K = 0x06 | 0x00  # BPF_RET | BPF_K: return a constant
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000  # | errno: the call fails with that errno, nothing else happens

# Offsets in struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
NR_OFFSET = 0
ARCH_OFFSET = 4

# One instruction, struct sock_filter: __u16 code; __u8 jt; __u8 jf; __u32 k (native order).
INSTRUCTION = struct.Struct("=HBBI")

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
AUDIT_ARCH_AARCH64 = 0xC00000B7
AUDIT_ARCH_ARM = 0x40000028
X32_SYSCALL_BIT = 0x40000000

# The system calls that make a System V shared-memory segment or message queue, per
# architecture (``seccomp_data.arch``), from each architecture's system call table. (Queues hold
# memory outside every process too, up to about half a gigabyte with the kernel's defaults.)
DENIED_SYSCALLS: Mapping[int, tuple[int, ...]] = {
    # shmget and msgget, and their x32 numbers
    AUDIT_ARCH_X86_64: (29, X32_SYSCALL_BIT | 29, 68, X32_SYSCALL_BIT | 68),
    # 32-bit x86 code: shmget, msgget, and ipc, the older entry point of all System V IPC that
    # no program in the sandbox uses.
    AUDIT_ARCH_I386: (395, 399, 117),
    AUDIT_ARCH_AARCH64: (194, 186),  # shmget, msgget
    AUDIT_ARCH_ARM: (307, 303),  # shmget, msgget (32-bit ARM code)
}

Instruction = tuple[int, int, int, int]  # code, jt, jf, k


def filter_instructions(
    denied: Mapping[int, tuple[int, ...]] = DENIED_SYSCALLS, error: int = errno.EPERM
) -> list[Instruction]:
    """The program: load the architecture; for a known one, jump to its block, which loads the
    system call number and fails the denied ones with ``error``; allow everything else.

    Jumps go forward only and at most 255 instructions, as classic BPF requires; a table of
    this size stays far below that.
    """
    arches = list(denied)
    deny_at = 1 + len(arches) + 1 + sum(1 + len(numbers) + 1 for numbers in denied.values())
    program: list[Instruction] = [(BPF_LD_W_ABS, 0, 0, ARCH_OFFSET)]
    block_at = 1 + len(arches) + 1  # the first block, after the dispatch and its "allow"
    for index, arch in enumerate(arches):
        here = 1 + index
        program.append((BPF_JEQ_K, block_at - here - 1, 0, arch))
        block_at += 1 + len(denied[arch]) + 1
    program.append((BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))  # an architecture not in the table
    for arch in arches:
        program.append((BPF_LD_W_ABS, 0, 0, NR_OFFSET))
        for number in denied[arch]:
            here = len(program)
            program.append((BPF_JEQ_K, deny_at - here - 1, 0, number))
        program.append((BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    assert len(program) == deny_at
    program.append((BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | error))
    if any(not 0 <= jt <= 255 for _, jt, _, _ in program):
        raise ValueError("too many system calls for one classic BPF program")
    return program


def filter_program(denied: Mapping[int, tuple[int, ...]] = DENIED_SYSCALLS) -> bytes:
    """The program as the kernel reads it: an array of ``struct sock_filter``."""
    return b"".join(INSTRUCTION.pack(*instruction) for instruction in filter_instructions(denied))


class _SockFprog(ctypes.Structure):
    """struct sock_fprog: unsigned short len; struct sock_filter *filter."""

    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


def install() -> str | None:
    """Install the filter on this process (and so on everything it runs from now on).

    ``no_new_privs`` comes first: the kernel requires it of a process without ``CAP_SYS_ADMIN``
    (it only stops ``execve`` from granting privileges, which learner code must never get).
    Returns None when installed, else why not (a kernel without seccomp filters).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError) as exc:
        return str(exc)
    prctl.restype = ctypes.c_int
    program = filter_program()
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // INSTRUCTION.size, ctypes.addressof(buffer))
    zero = ctypes.c_ulong(0)
    if prctl(ctypes.c_int(PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), zero, zero, zero) != 0:
        return f"no_new_privs: {errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno())}"
    if prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog), zero, zero) != 0:
        return f"seccomp: {errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno())}"
    return None
