"""``omnidesk nlu eval`` as a person runs it: files in, figures out, clear errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.nlu.conftest import EXAMPLES

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "omnidesk", "nlu", "eval", *args],
                          capture_output=True, text=True, env=env, timeout=600, check=False)


def write(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("text", "label"),
          ) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    train, test = [], []
    for label, items in EXAMPLES.items():
        train += [(t, label) for t in items[:-2]]
        test += [(t, label) for t in items[-2:]]
    test += [("what is the capital of France", "OOS"), ("明天會下雨嗎", "OOS")]
    return write(tmp_path / "train.csv", train), write(tmp_path / "test.csv", test,
                                                          header=("sentence", "label"))


def test_json_report_with_out_of_scope(files: tuple[Path, Path]) -> None:
    train, test = files
    done = run("--train", str(train), "--test", str(test), "--oos-label", "OOS", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for key in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision"):
        assert result[key] is None or 0.0 <= result[key] <= 1.0, key
    assert result["accuracy"] > 0.5
    assert result["train_seconds"] > 0 and 0 < result["p50_ms"] <= result["p95_ms"]
    assert result["test_examples"] == 14


def test_plain_report_without_out_of_scope(files: tuple[Path, Path]) -> None:
    train, _ = files
    done = run("--train", str(train), "--test", str(train))
    assert done.returncode == 0, done.stderr
    assert "accuracy:" in done.stdout and "macro-F1" in done.stdout
    assert "out-of-scope" not in done.stdout and "p95" in done.stdout


@pytest.mark.parametrize(("content", "message"), [
    (b"text,label\nonly one column\n", "row 1: expected two columns"),
    (b"\xff\xfe\x00bad", "not UTF-8"),
    (b"text,label\n", "no labelled rows"),
])
def test_bad_files_are_refused_with_the_reason(tmp_path: Path, files: tuple[Path, Path],
                                               content: bytes, message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    done = run("--train", str(files[0]), "--test", str(bad))
    assert done.returncode == 2
    assert message in done.stderr and "bad.csv" in done.stderr


def test_missing_file_and_one_intent(tmp_path: Path, files: tuple[Path, Path]) -> None:
    done = run("--train", str(tmp_path / "nope.csv"), "--test", str(files[1]))
    assert done.returncode == 2 and "nope.csv" in done.stderr
    one = write(tmp_path / "one.csv", [("hello", "greet"), ("hi", "greet")])
    done = run("--train", str(one), "--test", str(files[1]))
    assert done.returncode == 2 and "two intents" in done.stderr


@pytest.mark.skipif(not (DATA / "hint3").is_dir(), reason="HINT3 is not in ../shared/data")
def test_hint3_sofmattress_finds_out_of_scope_traffic() -> None:
    """Real chatbot traffic: the threshold picked from training data alone rejects most of
    the out-of-scope queries while answering most in-scope ones."""
    done = run("--train", str(DATA / "hint3/train/sofmattress_train.csv"),
               "--test", str(DATA / "hint3/test/sofmattress_test.csv"),
               "--oos-label", "NO_NODES_DETECTED", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["oos_recall"] > 0.7 and result["in_scope_accuracy"] > 0.5
