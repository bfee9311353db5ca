"""GUI responsiveness: first thumbnails after opening a 2,000-photo folder, and GUI stalls.

A 5 ms timer probe runs on the GUI thread while the window scores; the longest gap between its
ticks is the longest the window was frozen.  Offscreen Qt, real 12 MP JPEGs (hard links to a
few dozen, so the folder costs no disk), real model.

    python scripts/bench_gui.py [--count 2000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from bench_score import build_folder  # noqa: E402

from curator.gui.main_window import MainWindow  # noqa: E402


def wait(app: QApplication, cond: object, timeout: float) -> bool:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        app.processEvents()
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.002)
    return False


def run_open(app: QApplication, win: MainWindow, folder: Path, seconds: float) -> dict:
    ticks: list[float] = []
    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    probe.start()
    t0 = time.perf_counter()
    win.open_folder(folder)
    wait(app, lambda: not win.scoring or time.perf_counter() - t0 > seconds, seconds + 60)
    elapsed = time.perf_counter() - t0
    if win.scoring:
        win.cancel()
    probe.stop()
    gaps = sorted((b - a) * 1000 for a, b in itertools.pairwise(ticks))
    scored = sum(it.score is not None for it in win.model.items())
    return {"first_thumb_s": win.first_thumb_s, "max_stall_ms": gaps[-1] if gaps else 0,
            "p99_ms": gaps[int(0.99 * (len(gaps) - 1))] if gaps else 0,
            "scored": scored, "rate": scored / elapsed, "seconds": elapsed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--work", type=Path, default=REPO / "bench-out")
    ap.add_argument("--switch-ms", type=float, default=0, help="GIL switch interval to test")
    args = ap.parse_args()
    base = build_folder(args.work / "base", 24)
    folder = args.work / f"gui{args.count}"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        p = folder / f"p{i:05d}.jpg"
        if not p.exists():
            os.link(base[i % len(base)], p)
    app = QApplication(sys.argv[:1])
    if args.switch_ms:
        sys.setswitchinterval(args.switch_ms / 1000)
    tmp = tempfile.mkdtemp()
    win = MainWindow(QSettings(f"{tmp}/s.ini", QSettings.Format.IniFormat), Path(tmp) / "cache")
    win.quiet_dialogs = True
    win.resize(1280, 860)
    win.show()
    t0 = time.perf_counter()
    wait(app, lambda: win.worker._scorer is not None and win.worker._scorer._model is not None,
         120)
    print(f"model preloaded at start-up in {time.perf_counter() - t0:.2f} s (before any folder)")
    cold = run_open(app, win, folder, args.seconds)
    print(f"cold open of {args.count} photos: first thumbnails after "
          f"{cold['first_thumb_s']:.2f} s; {cold['scored']} scored in {cold['seconds']:.0f} s "
          f"({cold['rate']:.1f} photos/s); GUI stall max {cold['max_stall_ms']:.0f} ms, "
          f"p99 {cold['p99_ms']:.0f} ms")
    warm = run_open(app, win, folder, args.seconds)
    print(f"re-open (first {cold['scored']} cached): first thumbnails after "
          f"{warm['first_thumb_s']:.2f} s; GUI stall max {warm['max_stall_ms']:.0f} ms, "
          f"p99 {warm['p99_ms']:.0f} ms")
    win.close()


if __name__ == "__main__":
    main()
