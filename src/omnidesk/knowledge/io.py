"""Import and export of the knowledge base: a folder of markdown files with front matter,
CSV, or JSON. ``omnidesk kb import PATH`` / ``omnidesk kb export PATH``."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import frontmatter
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.knowledge.articles import ArticleIn, ArticlePatch, do_create, do_update
from omnidesk.models import Article

FIELDS = ("external_key", "title", "locale", "visibility", "status", "product", "tags",
          "example_questions", "review_by", "body")


class KbImportError(ValueError):
    pass


def _split(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split("|") if v.strip()]


def _record(raw: dict[str, Any], where: str) -> ArticleIn:
    data = {k: raw.get(k) for k in FIELDS if raw.get(k) not in (None, "")}
    data["tags"] = _split(raw.get("tags"))
    data["example_questions"] = _split(raw.get("example_questions"))
    review_by = data.get("review_by")
    if isinstance(review_by, date):
        data["review_by"] = review_by.isoformat()
    try:
        return ArticleIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise KbImportError(f"{where}: {'.'.join(map(str, first['loc']))}: {first['msg']}"
                           ) from exc


def read_path(path: Path) -> list[ArticleIn]:
    """Articles from a folder of .md files, a .csv or a .json file."""
    if path.is_dir():
        out = []
        for md in sorted(path.rglob("*.md")):
            post = frontmatter.loads(md.read_text("utf-8"))
            meta = dict(post.metadata)
            meta.setdefault("external_key", md.relative_to(path).with_suffix("").as_posix())
            out.append(_record({**meta, "body": post.content}, str(md)))
        return out
    if not path.exists():
        raise KbImportError(f"{path} does not exist")
    text = path.read_text("utf-8-sig")
    if path.suffix.lower() == ".json":
        items = json.loads(text)
        if not isinstance(items, list):
            raise KbImportError(f"{path}: expected a JSON list of articles")
        return [_record(item, f"{path}[{i}]") for i, item in enumerate(items)]
    if path.suffix.lower() == ".csv":
        return [_record(row, f"{path}:{i + 2}")
                for i, row in enumerate(csv.DictReader(io.StringIO(text)))]
    raise KbImportError(f"{path}: import a folder of .md files, a .csv or a .json file")


async def import_articles(session: AsyncSession, records: list[ArticleIn],
                          actor: str) -> dict[str, int]:
    """Create new articles; update those whose ``external_key`` exists (a new version)."""
    counts = {"created": 0, "updated": 0}
    for rec in records:
        existing = None
        if rec.external_key:
            existing = await session.scalar(select(Article).where(
                Article.external_key == rec.external_key))
        if existing is None:
            await do_create(session, rec, actor)
            counts["created"] += 1
        else:
            patch = ArticlePatch(**rec.model_dump(
                exclude={"locale", "group_id", "external_key", "owner_id"}))
            await do_update(session, existing, patch, actor)
            counts["updated"] += 1
    return counts


def _export_row(a: Article) -> dict[str, Any]:
    return {"external_key": a.external_key or str(a.id), "title": a.title, "locale": a.locale,
            "visibility": a.visibility, "status": a.status, "product": a.product,
            "tags": a.tags, "example_questions": a.example_questions,
            "review_by": a.review_by.isoformat() if a.review_by else None, "body": a.body}


async def export_articles(session: AsyncSession, path: Path) -> int:
    rows = [_export_row(a) for a in await session.scalars(
        select(Article).order_by(Article.created_at))]
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=2), "utf-8")
    elif path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=FIELDS)
            writer.writeheader()
            for r in rows:
                writer.writerow({**r, "tags": "|".join(r["tags"]),
                                 "example_questions": "|".join(r["example_questions"])})
    else:
        path.mkdir(parents=True, exist_ok=True)
        for r in rows:
            body = r.pop("body")
            key = str(r["external_key"]).replace("..", "_").strip("/")
            target = path / f"{key}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(frontmatter.dumps(frontmatter.Post(body, **r)) + "\n", "utf-8")
    return len(rows)
