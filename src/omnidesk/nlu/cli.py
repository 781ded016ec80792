"""``omnidesk nlu ...``: measure the intent classifier on labelled files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from omnidesk.nlu.classifier import TrainingError
from omnidesk.nlu.evaluate import DataError, evaluate, read_labelled

nlu_app = typer.Typer(help="Intent recognition.", no_args_is_help=True)

LABELS = {"accuracy": "accuracy", "macro_f1": "macro-F1",
          "in_scope_accuracy": "in-scope accuracy", "oos_recall": "out-of-scope recall",
          "oos_precision": "out-of-scope precision"}


@nlu_app.command("eval")
def nlu_eval(
    train: Annotated[Path, typer.Option(help="CSV text,label to train on.")],
    test: Annotated[Path, typer.Option(help="CSV text,label to measure on.")],
    oos_label: Annotated[str | None, typer.Option(
        help="The label that marks out-of-scope utterances.")] = None,
    target_precision: Annotated[float, typer.Option(
        help="Precision the out-of-scope threshold is tuned for (held-out data).")] = 0.9,
    no_embeddings: Annotated[bool, typer.Option(
        "--no-embeddings", help="TF-IDF features only (default: WordLlama sentence vectors "
        "when a quarter or more of the training texts are English).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train on one file, evaluate on another; print accuracy, macro-F1, latency."""
    if not 0.0 < target_precision <= 1.0:
        typer.echo("error: --target-precision must be in (0, 1]", err=True)
        raise typer.Exit(2)
    try:
        result = evaluate(read_labelled(train), read_labelled(test), oos_label=oos_label,
                          target_precision=target_precision,
                          use_embeddings=False if no_embeddings else None)
    except (DataError, TrainingError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(f"trained on {result['train_examples']} utterances, {result['intents']} intents, "
               f"in {result['train_seconds']:.1f} s; tested on {result['test_examples']}")
    for key, name in LABELS.items():
        if result.get(key) is not None:
            typer.echo(f"{name:>24}: {100 * result[key]:.1f} %")
    typer.echo(f"{'threshold':>24}: {result['threshold']:.3f}")
    typer.echo(f"{'prediction latency':>24}: p50 {result['p50_ms']:.2f} ms, "
               f"p95 {result['p95_ms']:.2f} ms")
