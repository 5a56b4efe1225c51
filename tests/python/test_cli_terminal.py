"""The CLI's live progress line on a real terminal (a pty of a set width): it ticks between
state changes, never exceeds the terminal's width, and is plain lines when not a terminal.

Run with ``-s`` to see the screens (text screenshots) of a 45- and a 120-column terminal."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

from conftest import CLI_BIN, Mock, python_env

# Each state lasts a few ticks of the CLI's one-second redraw.
STATE_MS = 2600
CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")
ELAPSED = re.compile(r"\[\s*(\d+\.\d)s\] (\S+)")


class Screen:
    """A minimal terminal emulator: enough of VT100 for indicatif's output (CR, LF, erase,
    cursor up/down/column). Counts any character written past the last column."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[list[str]] = [[]]
        self.row = 0
        self.col = 0
        self.overflows: list[str] = []

    def _line(self) -> list[str]:
        while len(self.lines) <= self.row:
            self.lines.append([])
        return self.lines[self.row]

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            m = CSI.match(text, i)
            if m:
                self._csi(m.group(1), m.group(2))
                i = m.end()
                continue
            c = text[i]
            i += 1
            if c == "\r":
                self.col = 0
            elif c == "\n":
                self.row += 1
                self.col = 0
                self._line()
            elif c == "\x1b":
                continue
            elif c >= " ":
                line = self._line()
                if self.col >= self.width:
                    self.overflows.append("".join(line) + c)
                    # What a terminal does: wrap onto the next line.
                    self.row += 1
                    self.col = 0
                    line = self._line()
                while len(line) <= self.col:
                    line.append(" ")
                line[self.col] = c
                self.col += 1

    def _csi(self, params: str, op: str) -> None:
        n = int(params) if params.isdigit() else 1
        if op == "K":  # erase in line
            line = self._line()
            if params in ("", "0"):
                del line[self.col:]
            elif params == "2":
                line.clear()
            else:
                del line[: self.col]
        elif op == "A":
            self.row = max(0, self.row - n)
        elif op == "B":
            self.row += n
        elif op == "C":
            self.col = min(self.width, self.col + n)
        elif op == "D":
            self.col = max(0, self.col - n)
        elif op == "G":
            self.col = n - 1
        elif op == "J":
            del self.lines[self.row + 1:]
            del self._line()[self.col:]

    def text(self) -> str:
        rows = ["".join(line).rstrip() for line in self.lines]
        while rows and not rows[-1]:
            rows.pop()
        border = "+" + "-" * self.width + "+"
        return "\n".join([border, *("|" + r.ljust(self.width) + "|" for r in rows), border])


def run_on_pty(mock: Mock, width: int, args: list[str], signal_after: float | None = None,
               sig: int = signal.SIGTERM) -> tuple[int, str, list[tuple[float, str]]]:
    """Runs the CLI with stdout and stderr on a pty `width` columns wide (sending `sig` after
    `signal_after` seconds, if given). Returns the exit code, everything written, and each
    (time read, chunk)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, width, 0, 0))
    env = python_env(mock, TERM="xterm-256color", COLUMNS=str(width))
    proc = subprocess.Popen([str(CLI_BIN), *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, start_new_session=True)
    os.close(slave)
    chunks: list[tuple[float, str]] = []
    start = time.monotonic()
    data = b""
    try:
        while time.monotonic() - start < 60:
            if signal_after is not None and time.monotonic() - start > signal_after:
                proc.send_signal(sig)
                signal_after = None
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the pty
                    break
                if not chunk:
                    break
                data += chunk
                chunks.append((time.monotonic() - start, chunk.decode(errors="replace")))
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    return code, data.decode(errors="replace"), chunks


def progress_overflows(screen: Screen) -> list[str]:
    """The progress lines (stderr) that went past the last column. The summary line (stdout,
    written once) may wrap like any long line: it is not redrawn, so nothing piles up."""
    return [line for line in screen.overflows if ELAPSED.search(line)]


@pytest.mark.parametrize("width", [45, 120])
def test_the_live_line_ticks_and_fits_the_terminal(mock: Mock, width: int) -> None:
    db = mock.database(tick_ms=STATE_MS, states=["QUEUED", "DEPLOYMENT_QUEUED", "DEPLOYING"])
    code, raw, chunks = run_on_pty(mock, width, ["--wait", "--poll-interval", "0.2", db])
    screen = Screen(width)
    screen.feed(raw)
    print(f"\n{width} columns, at the end:\n{screen.text()}")
    # A frame in the middle, as the terminal showed it then.
    partial = Screen(width)
    for t, chunk in chunks:
        partial.feed(chunk)
        if t > STATE_MS / 1000 * 2.5:
            break
    print(f"{width} columns, during DEPLOYMENT_QUEUED/DEPLOYING:\n{partial.text()}")
    assert code == 0, raw
    assert mock.token not in raw
    assert not progress_overflows(screen), f"lines wider than {width} columns: {screen.overflows}"
    # Between two state changes the elapsed time keeps moving: several redraws of one state
    # with different times.
    seen: dict[str, set[str]] = {}
    for elapsed, state in ELAPSED.findall(raw):
        seen.setdefault(state, set()).add(elapsed)
    assert any(len(times) >= 2 for times in seen.values()), seen
    assert len(seen.get("DEPLOYMENT_QUEUED", set())) >= 2, seen
    rows = screen.text().splitlines()[1:-1]
    # The live line stays as its last state, then the summary on stdout.
    assert any("DEPLOYED" in r and "[" in r for r in rows), screen.text()
    assert any(r.startswith("|deployed: database") for r in rows), screen.text()


def test_a_long_state_is_cut_to_the_width(mock: Mock) -> None:
    state = "VERY_LONG_FUTURE_STATE_NAME_THAT_THE_API_MIGHT_ADD_ONE_DAY_X"
    db = mock.database(tick_ms=1500, states=[state])
    code, raw, _ = run_on_pty(mock, 45, ["--wait", "--poll-interval", "0.2", db])
    screen = Screen(45)
    screen.feed(raw)
    assert code == 0, raw
    assert not progress_overflows(screen), screen.overflows
    assert "VERY_LONG" in raw


def test_not_a_terminal_gets_plain_lines(mock: Mock) -> None:
    db = mock.database(tick_ms=300)
    r = subprocess.run([str(CLI_BIN), "--wait", "--poll-interval", "0.1", db],
                       env=python_env(mock), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stderr + r.stdout and "\r" not in r.stderr
    lines = r.stderr.splitlines()
    assert lines and all(re.fullmatch(r"\[\s*\d+\.\ds\] \S.*", line) for line in lines), lines
    # One line per change: no tick repeats a state.
    assert len(lines) == len({line.split("] ", 1)[1] for line in lines}), lines


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_closes_the_live_line(mock: Mock, sig: int, code: int) -> None:
    db = mock.database(tick_ms=60_000)
    got, raw, _ = run_on_pty(mock, 45, ["--wait", "--poll-interval", "0.2", db],
                             signal_after=1.5, sig=sig)
    screen = Screen(45)
    screen.feed(raw)
    print(f"\n45 columns, {signal.Signals(sig).name} during the wait:\n{screen.text()}")
    assert got == code, raw
    rows = screen.text().splitlines()[1:-1]
    # The live line is closed (its own row), then the closing line starts a row of its own.
    assert "QUEUED" in rows[0], screen.text()
    assert rows[1].startswith(f"|qovery-redeploy: error: cancelled by {signal.Signals(sig).name}"), \
        screen.text()
    assert "goes on without us" in raw.replace("\r\n", "")
