#!/usr/bin/env python3
"""Benchmark (not a test): what grading costs, measured on the real Fashion-MNIST data.

Part "overhead":
  1. ``grade fashion_mnist <reference solution>`` end to end (a fresh process, as a learner runs it);
  2. a bare script doing the same work: load the data, build and train the reference model with
     the same seed, evaluate it on the test split;
  and prints both wall-clock times and their ratio. ``--repeat N`` takes the median of N runs.

Part "batch":
  3. ``grade batch`` on a class of 8 real submissions (the reference solution, each copy with a
     comment of its own so the content cache cannot share results) with ``--jobs 1``, then the
     same class into a fresh output folder with ``--jobs 2``, and their ratio;
  4. the ``--jobs 2`` batch run again unchanged: every result comes from the cache (seconds).

Part "quick":
  5. ``grade fashion_mnist <reference solution> --quick`` (a fresh process, as a learner runs it)
     and ``python -c "import tensorflow"``, alternately in the same run, and their ratio (the
     target: a quick preview takes at most 2x TensorFlow's own import), with where the quick
     grading's time went (the sandbox, and the grader around it).

Usage: python scripts/benchmark.py [--part overhead|batch|quick|all] [--repeat N] [--students 8] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "solutions" / "fashion_mnist" / "fashion_mnist.py"

# The same work as grading, without the grader: the reference solution's own functions, the same
# data (the grader's verified cache), the same seed, and an evaluation on the test split.
BARE_SCRIPT = textwrap.dedent(
    """
    import importlib.util, sys
    import numpy as np
    from grader.datasets import load_dataset

    data = load_dataset("fashion_mnist", {data_dir!r} or None)
    import keras
    keras.utils.set_random_seed(42)
    spec = importlib.util.spec_from_file_location("solution", {solution!r})
    solution = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(solution)
    model = solution.build_model()
    solution.train(model, np.asarray(data.train_images, "float32") / 255.0, np.asarray(data.train_labels, "int64"))
    loss, accuracy = model.evaluate(np.asarray(data.test_images, "float32") / 255.0, np.asarray(data.test_labels), verbose=0)
    print(f"bare test accuracy {{accuracy:.4f}}")
    """
)


def timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    return time.perf_counter() - started, completed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["overhead", "batch", "quick", "all"], default="all")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--students", type=int, default=8, help="class size of the batch part")
    parser.add_argument("--data-dir", default="")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    code = overhead_benchmark(args) if args.part in ("overhead", "all") else 0
    if code == 0 and args.part in ("batch", "all"):
        code = batch_benchmark(args)
    if code == 0 and args.part in ("quick", "all"):
        code = quick_benchmark(args)
    return code


def quick_benchmark(args: argparse.Namespace) -> int:
    """Quick mode against TensorFlow's import, alternately, so both see the same machine load."""
    with tempfile.TemporaryDirectory() as tmp:
        result_json = Path(tmp) / "quick.json"
        grade_cmd = [sys.executable, "-m", "grader", "fashion_mnist", str(REFERENCE), "--quick", "--quiet",
                     "--json", str(result_json)]  # fmt: skip
        if args.data_dir:
            grade_cmd += ["--data-dir", args.data_dir]
        import_cmd = [sys.executable, "-c", "import tensorflow"]
        timed(import_cmd)  # warm the file-system cache for both
        quick_times, import_times = [], []
        for run in range(1, max(args.repeat, 1) + 1):
            seconds, completed = timed(grade_cmd)
            if completed.returncode != 3:  # a preview exits 3 (README: exit codes)
                print(completed.stdout, completed.stderr, sep="\n")
                print(f"grade --quick exited with {completed.returncode}, not 3 (a preview)")
                return 1
            quick_times.append(seconds)
            result = json.loads(result_json.read_text())
            import_s, _ = timed(import_cmd)
            import_times.append(import_s)
            metrics = result["metrics"]
            print(
                f"run {run}: grade --quick {seconds:.2f} s (sandbox {metrics['sandbox_seconds']:.2f} s, "
                f"trial fit {metrics['train_seconds']:.2f} s, trusted facts {metrics['evaluation_seconds']:.2f} s "
                f"after the sandbox, mode {result['mode']}); import tensorflow {import_s:.2f} s; "
                f"load average {os.getloadavg()[0]:.2f}"
            )
            # Where the time went: the grader's progress lines carry the time since it started.
            stages = [line.strip() for line in completed.stderr.splitlines() if line.lstrip().startswith("[")]
            print("    " + "; ".join(stages))
    quick_s, import_s = statistics.median(quick_times), statistics.median(import_times)
    print(f"grade fashion_mnist --quick (reference): {quick_s:.2f} s")
    print(f"python -c 'import tensorflow':          {import_s:.2f} s")
    print(f"ratio quick / import:                   {quick_s / import_s:.2f}x (target: at most 2x)")
    return 0


def overhead_benchmark(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_SCRIPT.format(solution=str(REFERENCE), data_dir=args.data_dir))
        result_json = Path(tmp) / "result.json"
        grade_cmd = [
            sys.executable,
            "-m",
            "grader",
            "fashion_mnist",
            str(REFERENCE),
            "--quiet",
            "--json",
            str(result_json),
        ]
        if args.data_dir:
            grade_cmd += ["--data-dir", args.data_dir]
        # Warm both paths once (dataset cache, file-system cache) so neither pays a first-run cost.
        timed(
            [
                sys.executable,
                "-c",
                f"from grader.datasets import load_dataset; load_dataset('fashion_mnist', {args.data_dir!r} or None)",
            ]
        )

        grade_times, bare_times = [], []
        for _ in range(args.repeat):
            seconds, completed = timed(grade_cmd)
            if completed.returncode != 0:
                print(completed.stdout, completed.stderr, sep="\n")
                print(f"grading failed with exit code {completed.returncode}")
                return 1
            grade_times.append(seconds)
            result = json.loads(result_json.read_text())
            seconds, completed = timed([sys.executable, str(bare)])
            if completed.returncode != 0:
                print(completed.stderr)
                return 1
            bare_times.append(seconds)
            print(
                f"run {len(grade_times)}: grade {grade_times[-1]:.1f} s "
                f"(accuracy {result['metrics']['test_accuracy']:.4f}, score {result['score']:g}/{result['max_score']:g}); "
                f"bare {bare_times[-1]:.1f} s ({completed.stdout.strip().splitlines()[-1]})"
            )

    grade_s, bare_s = statistics.median(grade_times), statistics.median(bare_times)
    print(f"grade fashion_mnist (reference): {grade_s:.1f} s")
    print(f"bare script, same training:      {bare_s:.1f} s")
    print(f"ratio grade / bare:              {grade_s / bare_s:.2f}x")
    return 0


def batch_benchmark(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        submissions = Path(tmp) / "submissions"
        submissions.mkdir()
        reference = REFERENCE.read_text()
        for number in range(1, args.students + 1):
            # Same work for every student; different bytes, so each one is really graded.
            (submissions / f"student{number:02d}.py").write_text(f"{reference}\n# student {number}\n")

        def batch(jobs: int, out: str) -> tuple[float, dict]:
            command = [sys.executable, "-m", "grader", "batch", "fashion_mnist", str(submissions),
                       "--out", str(Path(tmp) / out), "--jobs", str(jobs), "--quiet"]  # fmt: skip
            if args.data_dir:
                command += ["--data-dir", args.data_dir]
            seconds, completed = timed(command)
            if completed.returncode != 0:
                print(completed.stdout, completed.stderr, sep="\n")
                raise SystemExit(f"grade batch --jobs {jobs} failed with exit code {completed.returncode}")
            stats = json.loads((Path(tmp) / out / "run.json").read_text())
            if stats["passed"] != args.students:
                # Every student hands in the reference solution: anything else is a broken set-up,
                # and its times would measure nothing.
                raise SystemExit(f"only {stats['passed']} of {args.students} copies of the reference passed")
            return seconds, stats

        one_s, one = batch(1, "jobs1")
        print(f"batch of {args.students}, --jobs 1: {one_s:.1f} s ({one['passed']} passed)")
        two_s, two = batch(2, "jobs2")
        print(f"batch of {args.students}, --jobs 2: {two_s:.1f} s ({two['passed']} passed)")
        again_s, again = batch(2, "jobs2")
        print(
            f"re-run of the unchanged batch: {again_s:.1f} s ({again['cached']} from the cache, {again['graded']} graded)"
        )
    print(f"ratio --jobs 1 / --jobs 2:          {one_s / two_s:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
