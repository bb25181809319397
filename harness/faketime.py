"""Put the handler process on the scenario's clock with libfaketime (LD_PRELOAD, a speed factor).

The mock gateway's :class:`~mock_gateway.sim.clock.SimClock` maps wall time to simulated time as
``sim = (monotonic - t0) * speed`` with sim 0 at the scenario's ``start``. The handler is started
with Debian's ``libfaketime`` preloaded and ``FAKETIME="@<start> x<speed>"``, so its wall clock,
monotonic clock and sleeps (``nanosleep``/``clock_nanosleep``, ``select``/``poll``/``epoll``
timeouts, hence ``time.sleep`` and asyncio timers) run at the scenario's speed from the
scenario's start.

libfaketime counts from the moment *each process* loads it, which would put a handler that takes
a second to start ``speed`` simulated seconds behind the gateway. Its shared-memory mode
(``FAKETIME_SHARED``) lets a parent give the whole process tree one reference instant instead;
:class:`SharedClock` writes the gateway clock's own ``t0`` there, so both sides agree on start
and rate by construction. :func:`measure_drift` checks that with a witness process on the same
clock.

What it cannot do: statically linked binaries (Go, some Rust builds) and programs that make the
``clock_gettime`` vDSO call without libc do not see the fake clock; a handler that reads the time
from the network (NTP, an exchange's timestamp, a broker's server time) sees real time there.
Use ``--real-clock`` for those.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
import secrets
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: Where Debian's ``libfaketime`` package puts the library (amd64, arm64), first match wins.
#: ``PRELIVE_LIBFAKETIME`` names another file.
LIBRARY_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
)
INSTALL_HINT = "install Debian's libfaketime (apt-get install libfaketime) or run with --real-clock"

# struct ft_shared_s of libfaketime 0.9.x: ticks, file_idx, start_time{real, mon, mon_raw, boot}
_SHARED_LAYOUT = struct.Struct("<QQ" + "qq" * 4)
_CLOCKS = (time.CLOCK_REALTIME, time.CLOCK_MONOTONIC, time.CLOCK_MONOTONIC_RAW, time.CLOCK_BOOTTIME)


class FaketimeUnavailable(RuntimeError):
    """libfaketime is not installed (or cannot be used here); the message says what to do."""


def find_library() -> Path:
    """The libfaketime shared object to preload; FaketimeUnavailable with an install hint if there is none."""
    named = os.environ.get("PRELIVE_LIBFAKETIME")
    if named:
        if not Path(named).is_file():
            raise FaketimeUnavailable(f"PRELIVE_LIBFAKETIME={named} is not a file; {INSTALL_HINT}")
        return Path(named)
    for candidate in LIBRARY_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FaketimeUnavailable(f"libfaketime not found (looked in {', '.join(LIBRARY_CANDIDATES)}); {INSTALL_HINT}")


@dataclass(frozen=True)
class ClockReference:
    """The scenario clock: sim second 0 is ``start_epoch_s`` on the calendar and ``t0_monotonic_s`` on
    this machine's monotonic clock; it runs at ``speed`` sim seconds per wall second."""

    start_epoch_s: float
    speed: float
    t0_monotonic_s: float

    def sim_at(self, monotonic_s: float) -> float:
        return (monotonic_s - self.t0_monotonic_s) * self.speed

    def epoch_at(self, monotonic_s: float) -> float:
        return self.start_epoch_s + self.sim_at(monotonic_s)

    @classmethod
    def from_wall(cls, start_epoch_s: float, speed: float, t0_wall_s: float) -> ClockReference:
        """From the wall time (``time.time()``) of sim 0, e.g. another container's gateway start."""
        return cls(start_epoch_s, speed, time.monotonic() - (time.time() - t0_wall_s))


def faketime_spec(ref: ClockReference) -> str:
    """The FAKETIME value: start as epoch seconds (with ``FAKETIME_FMT=%s``: no time-zone trap) and speed."""
    return f"@{ref.start_epoch_s:.6f} x{ref.speed:.9g}"


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if not hasattr(libc, "sem_open"):   # glibc < 2.34 keeps it in libpthread
        libc = ctypes.CDLL(ctypes.util.find_library("pthread") or "libpthread.so.0", use_errno=True)
    libc.sem_open.restype = ctypes.c_void_p
    libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
    libc.sem_close.argtypes = [ctypes.c_void_p]
    libc.sem_unlink.argtypes = [ctypes.c_char_p]
    return libc


class SharedClock:
    """libfaketime's shared state (a POSIX semaphore and shared memory) holding one reference instant.

    Every process of the handler's tree that loads libfaketime with ``FAKETIME_SHARED`` pointing
    here counts from that instant instead of its own start. :meth:`close` removes both objects.
    """

    def __init__(self, ref: ClockReference) -> None:
        self.ref = ref
        token = f"{os.getpid()}_{secrets.token_hex(4)}"
        self.sem_name, self.shm_name = f"/prelive_ft_sem_{token}", f"/prelive_ft_shm_{token}"
        self._libc = _libc()
        sem = self._libc.sem_open(self.sem_name.encode(), os.O_CREAT | os.O_EXCL, 0o600, 1)
        if not sem:
            err = ctypes.get_errno()
            raise FaketimeUnavailable(f"cannot create the shared clock semaphore: {os.strerror(err)}")
        self._libc.sem_close(sem)
        try:
            self._write_reference()
        except OSError as exc:
            self._libc.sem_unlink(self.sem_name.encode())
            raise FaketimeUnavailable(f"cannot create the shared clock memory /dev/shm{self.shm_name}: {exc}") from None

    def _write_reference(self) -> None:
        # each clock's value at the reference instant: its value now minus the monotonic time since then
        since_t0_ns = time.monotonic_ns() - round(self.ref.t0_monotonic_s * 1e9)
        values: list[int] = [0, 0]
        for clock in _CLOCKS:
            at_t0 = time.clock_gettime_ns(clock) - since_t0_ns
            values += [at_t0 // 1_000_000_000, at_t0 % 1_000_000_000]
        fd = os.open(f"/dev/shm{self.shm_name}", os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        try:
            os.ftruncate(fd, _SHARED_LAYOUT.size)
            with mmap.mmap(fd, _SHARED_LAYOUT.size) as mem:
                mem[:] = _SHARED_LAYOUT.pack(*values)
        finally:
            os.close(fd)

    def env(self, library: Path) -> dict[str, str]:
        """Variables that put a process (and its children) on this clock."""
        return clock_env(library, self.ref, f"{self.sem_name} {self.shm_name}")

    def close(self) -> None:
        self._libc.sem_unlink(self.sem_name.encode())
        Path(f"/dev/shm{self.shm_name}").unlink(missing_ok=True)

    def __enter__(self) -> SharedClock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def clock_env(library: Path, ref: ClockReference, shared: str | None) -> dict[str, str]:
    preload = os.environ.get("LD_PRELOAD", "")
    env = {"LD_PRELOAD": f"{library}{':' + preload if preload else ''}", "FAKETIME": faketime_spec(ref),
           "FAKETIME_FMT": "%s", "FAKETIME_DONT_RESET": "1",
           "PRELIVE_CLOCK": f"faketime x{ref.speed:g} from {ref.start_epoch_s:.3f}"}
    if shared:
        env["FAKETIME_SHARED"] = shared
    return env


def is_static_executable(path: str | os.PathLike[str]) -> bool:
    """True for an ELF executable without a program interpreter (statically linked: LD_PRELOAD never
    loads, so libfaketime cannot reach it). Scripts and unreadable files: False."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
            if len(head) < 64 or head[:4] != b"\x7fELF":
                return False
            is64, little = head[4] == 2, head[5] == 1
            order = "<" if little else ">"
            if is64:
                phoff, = struct.unpack_from(order + "Q", head, 32)
                phentsize, phnum = struct.unpack_from(order + "HH", head, 54)
            else:
                phoff, = struct.unpack_from(order + "I", head, 28)
                phentsize, phnum = struct.unpack_from(order + "HH", head, 42)
            fh.seek(phoff)
            table = fh.read(phentsize * min(phnum, 256))
    except OSError:
        return False
    for i in range(min(phnum, 256)):
        entry = table[i * phentsize:(i + 1) * phentsize]
        if len(entry) >= 4 and struct.unpack_from(order + "I", entry, 0)[0] == 3:   # PT_INTERP
            return False
    return True


# ------------------------------------------------------------------------------ drift
class Witness:
    """A process on the handler's clock that answers each newline on stdin with its time.time().

    It shares the handler's environment (library, FAKETIME, shared reference), so what it reads is
    what the handler reads at the same instant.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-S", "-c", _WITNESS_CODE], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def read_epoch(self) -> tuple[float, float, float]:
        """(handler wall clock and monotonic clock, both as epoch seconds; this process's monotonic time
        halfway through the exchange). libfaketime fakes each from its own kernel clock, so a step or
        slew of the machine's wall clock shows in the first only."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        before = time.monotonic()
        self.proc.stdin.write("\n")
        line = self.proc.stdout.readline()
        after = time.monotonic()
        if not line:
            raise FaketimeUnavailable("the clock witness exited; libfaketime could not be loaded")
        wall, mono = (float(v) for v in line.split())
        return wall, mono, (before + after) / 2

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


_WITNESS_CODE = "import sys, time\nfor _ in sys.stdin:\n    print(repr(time.time()), repr(time.monotonic()), flush=True)\n"


def measure_drift(witness: Witness, ref: ClockReference) -> tuple[float, float]:
    """(handler wall clock, handler monotonic clock) minus the scenario clock, in simulated seconds, at one
    instant (the faked monotonic clock counts from the same epoch as the wall clock)."""
    wall, mono, at = witness.read_epoch()
    expected = ref.epoch_at(at)
    return wall - expected, mono - expected


# ------------------------------------------------------------------------------ witness in a container
#: The variables that put a process on the handler's clock (what a witness copies from the handler).
CLOCK_VARS = ("LD_PRELOAD", "FAKETIME", "FAKETIME_FMT", "FAKETIME_DONT_RESET", "FAKETIME_SHARED", "PRELIVE_CLOCK")


def handler_clock_env(proc: str = "/proc", pid: int | None = None) -> dict[str, str] | None:
    """The clock variables of a process on a shared faked clock (the handler started by ``exec``), or None.

    Read from ``/proc/<pid>/environ`` of ``pid``, or of the first such process that is not this one:
    in a container that is the handler, whatever its command."""
    me = os.getpid()
    try:
        pids = [pid] if pid is not None else sorted(int(e) for e in os.listdir(proc) if e.isdigit())
    except OSError:
        return None
    for pid in pids:
        if pid == me:
            continue
        try:
            with open(f"{proc}/{pid}/environ", "rb") as fh:
                raw = fh.read(1 << 20)
        except OSError:
            continue
        env = dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
        if env.get("FAKETIME_SHARED") and "libfaketime" in env.get("LD_PRELOAD", ""):
            return {k: env[k] for k in CLOCK_VARS if k in env}
    return None


def _witness_main(argv: list[str]) -> int:
    """``python -m harness.faketime witness``, run beside the handler (``docker exec -i``): on the real clock
    itself, it starts a :class:`Witness` on the handler's clock and answers each newline on stdin with
    ``handler_wall handler_monotonic real_wall`` (the real time halfway through the best of 3 exchanges),
    so a process outside the container can compare the handler's clock with the scenario's."""
    pid = None
    if argv[:1] == ["--pid"] and len(argv) >= 2 and argv[1].isdigit():
        pid, argv = int(argv[1]), argv[2:]
    try:
        wait_s = float(argv[0]) if argv else 30.0
    except ValueError:
        print("usage: python -m harness.faketime witness [--pid PID] [WAIT_S]", file=sys.stderr)
        return 2
    deadline = time.monotonic() + wait_s
    env = handler_clock_env(pid=pid)
    while env is None and time.monotonic() < deadline:
        time.sleep(0.1)
        env = handler_clock_env(pid=pid)
    if env is None:
        print("harness.faketime witness: no process on a shared faked clock here (is the handler running "
              "under `python -m harness.faketime exec`?)", file=sys.stderr)
        return 3
    base = {k: v for k, v in os.environ.items() if k not in CLOCK_VARS}
    witness = Witness({**base, **env})
    try:
        for _ in sys.stdin:
            samples = []
            for _ in range(3):
                before = time.monotonic()
                wall, mono, mid = witness.read_epoch()
                samples.append((time.monotonic() - before, wall, mono, time.time() - (time.monotonic() - mid)))
            _, wall, mono, mid_wall = min(samples)
            print(repr(wall), repr(mono), repr(mid_wall), flush=True)
    except (FaketimeUnavailable, BrokenPipeError) as exc:
        print(f"harness.faketime witness: {exc}", file=sys.stderr)
        return 3
    finally:
        witness.close()
    return 0


# ------------------------------------------------------------------------------ container entry
def _exec_main(argv: list[str]) -> int:
    """``python -m harness.faketime exec [START_EPOCH SPEED T0_WALL] -- command...``: inside a container,
    make the shared reference from the gateway's sim-0 wall time (containers share the kernel clocks)
    and exec the command on the scenario's clock. Omitted values come from ``PRELIVE_CLOCK_START_EPOCH``,
    ``PRELIVE_CLOCK_SPEED`` and ``PRELIVE_CLOCK_T0_WALL``."""
    usage = "usage: python -m harness.faketime exec [START_EPOCH SPEED T0_WALL] -- command..."
    if "--" not in argv:
        print(usage, file=sys.stderr)
        return 2
    sep = argv.index("--")
    values, command = argv[:sep], argv[sep + 1:]
    if not values:
        values = [os.environ.get(k, "") for k in ("PRELIVE_CLOCK_START_EPOCH", "PRELIVE_CLOCK_SPEED",
                                                  "PRELIVE_CLOCK_T0_WALL")]
    try:
        start_epoch, speed, t0_wall = (float(v) for v in values)
    except ValueError:
        print(f"harness.faketime exec: start, speed and sim-0 wall time must be numbers, got {values}; {usage}",
              file=sys.stderr)
        return 2
    if not command:
        print("harness.faketime exec: no command given", file=sys.stderr)
        return 2
    ref = ClockReference.from_wall(start_epoch, speed, t0_wall)
    try:
        library = find_library()
        shared = SharedClock(ref)   # left for the container's end: the handler tree reads it throughout
    except FaketimeUnavailable as exc:
        print(f"harness.faketime: {exc}", file=sys.stderr)
        return 3
    os.environ.update(shared.env(library))
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"harness.faketime exec: cannot run {command[0]!r}: {exc.strerror or exc}", file=sys.stderr)
        return 127
    return 127  # not reached


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "exec":
        sys.exit(_exec_main(sys.argv[2:]))
    if len(sys.argv) >= 2 and sys.argv[1] == "witness":
        sys.exit(_witness_main(sys.argv[2:]))
    print("usage: python -m harness.faketime exec START_EPOCH SPEED T0_WALL -- command...\n"
          "       python -m harness.faketime witness [--pid PID] [WAIT_S]", file=sys.stderr)
    sys.exit(2)
