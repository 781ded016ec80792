"""Knowledge search over 10,000 articles: the BM25F index against naive scans.

Corpus (deterministic, seed 7), from ../shared/data (or $OMNIDESK_DATA_DIR):
- *label articles*: 52 of the 77 BANKING77 intents (English) and 100 of the 149 taipei-qa
  departments (traditional Chinese), chosen at random; title = the label, 5 training
  utterances as example questions, up to 15 more as a markdown bullet list (body);
- *padding articles* up to 10,000 (1/4 Chinese): a title, 2 example questions and an
  8-bullet body (``--padding-lines``) drawn at random from the utterances of the *other*
  labels (25 intents, 49 departments) and the HINT3 sentences, so that no padding
  article speaks for a label that has an article; 1 in 4 is internal, each has a
  product and two tags.
Queries: the BANKING77 test utterances of the 52 intents, and a held-out 20 % (per
department) of the 100 departments' utterances, searched with ``visibility="public"``.
recall@5 = the query's label article is among the first 5 hits.

Baselines, in the same process, on an evenly spaced subset of the queries:
- brute force: the same BM25F scoring, a pure-Python scan over every document's term
  frequencies (document frequencies precomputed) — also checks the index ranks the same;
- SQL LIKE: SQLite in memory, one normalised ``search_key`` column per article, score =
  number of query words found with ``instr`` (what ``LIKE '%word%'`` ranking does).
Cross-script: the whole corpus indexed again with every Chinese text converted to
simplified (OpenCC ``tw2sp``); taipei queries in traditional and in simplified.

Run: .venv/bin/python bench/bench_kb_search.py [--padding-lines 80]
"""

from __future__ import annotations

import argparse
import csv
import gc
import math
import os
import random
import resource
import sqlite3
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import jieba

from omnidesk.kit.text import cjk_bigrams, search_key, to_simplified, words
from omnidesk.knowledge.search import BM25FParams, SearchDoc, SearchIndex, doc_terms
from omnidesk.knowledge.search_postings import DocTerms

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("OMNIDESK_DATA_DIR", ROOT.parent / "shared" / "data"))
TOTAL = 10_000
SEED = 7
BANKING_ARTICLES = 52  # of 77 intents; the other 25 feed the padding
TAIPEI_ARTICLES = 100  # of 149 departments; the other 49 feed the padding


@dataclass(frozen=True)
class Query:
    text: str
    label_id: str
    source: str


def read_csv(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(row[0].strip(), row[1].strip()) for row in list(csv.reader(f))[1:] if row]


def by_label(rows: list[tuple[str, str]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for text, label in rows:
        groups[label].append(text)
    return groups


def label_article(doc_id: str, title: str, texts: list[str], locale: str) -> SearchDoc:
    body = "\n".join(f"- {t}" for t in texts[5:20])
    return SearchDoc(
        id=doc_id, title=title, body=f"## {title}\n\n{body}", locale=locale,
        visibility="public", example_questions=texts[:5], product="bench",
    )


def padding_article(rng: random.Random, n: int, pool: list[str], locale: str,
                    lines: int) -> SearchDoc:
    picked = rng.sample(pool, 3 + lines)
    return SearchDoc(
        id=f"pad-{n}", title=picked[0], example_questions=picked[1:3],
        body="\n".join(f"- {t}" for t in picked[3:]), locale=locale,
        visibility="internal" if n % 4 == 0 else "public", product=rng.choice("abc"),
        tags=rng.sample(["billing", "account", "network", "policy"], 2),
    )


def split_labels(rng: random.Random, groups: dict[str, list[str]], n_articles: int
                 ) -> tuple[list[str], list[str]]:
    """Labels that get an article (and queries), and labels kept for padding only."""
    labels = sorted(groups)
    rng.shuffle(labels)
    return sorted(labels[:n_articles]), labels[n_articles:]


@dataclass
class Corpus:
    docs: list[SearchDoc] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)  # test / held-out utterances
    dev: list[Query] = field(default_factory=list)  # training utterances no article uses
    pools: dict[str, list[str]] = field(default_factory=lambda: {"en": [], "zh-TW": []})


def english(rng: random.Random, corpus: Corpus) -> None:
    train = by_label(read_csv(DATA / "banking77" / "train.csv"))
    test = by_label(read_csv(DATA / "banking77" / "test.csv"))
    article_labels, padding_labels = split_labels(rng, train, BANKING_ARTICLES)
    for label in article_labels:
        texts = train[label][:]
        rng.shuffle(texts)
        title = label.replace("_", " ").capitalize()
        corpus.docs.append(label_article(f"banking77:{label}", title, texts, "en"))
        corpus.queries += [Query(t, f"banking77:{label}", "banking77") for t in test[label]]
        corpus.dev += [Query(t, f"banking77:{label}", "banking77") for t in texts[20:35]]
    for label in padding_labels:
        corpus.pools["en"].extend(train[label] + test[label])
    for path in sorted((DATA / "hint3").glob("*/*.csv")):
        corpus.pools["en"].extend(t for t, _ in read_csv(path))


def chinese(rng: random.Random, corpus: Corpus) -> None:
    groups = by_label(read_csv(DATA / "taipei-qa" / "train.csv"))
    article_labels, padding_labels = split_labels(rng, groups, TAIPEI_ARTICLES)
    for label in article_labels:
        texts = groups[label][:]
        rng.shuffle(texts)
        cut = max(1, round(len(texts) * 0.2))
        corpus.queries += [Query(t, f"taipei:{label}", "taipei-qa") for t in texts[:cut]]
        corpus.docs.append(label_article(f"taipei:{label}", label, texts[cut:], "zh-TW"))
        dev = texts[cut + 20 : cut + 35]
        corpus.dev += [Query(t, f"taipei:{label}", "taipei-qa") for t in dev]
    for label in padding_labels:
        corpus.pools["zh-TW"].extend(groups[label])


def build_corpus(padding_lines: int = 8) -> Corpus:
    rng = random.Random(SEED)
    corpus = Corpus()
    english(rng, corpus)
    chinese(rng, corpus)
    n_labels = len(corpus.docs)
    n_zh = (TOTAL - n_labels) // 4
    for n in range(TOTAL - n_labels):
        locale = "zh-TW" if n < n_zh else "en"
        pool = corpus.pools[locale]
        corpus.docs.append(padding_article(rng, n, pool, locale, padding_lines))
    print(f"corpus: {len(corpus.docs)} articles = {n_labels} label articles + "
          f"{TOTAL - n_labels - n_zh} English and {n_zh} Chinese padding "
          f"(pools: {len(corpus.pools['en'])} / {len(corpus.pools['zh-TW'])} utterances); "
          f"{len(corpus.queries)} queries, {len(corpus.dev)} dev queries")
    return corpus


def to_simplified_doc(doc: SearchDoc) -> SearchDoc:
    if not doc.locale.startswith("zh"):
        return doc
    return replace(
        doc, title=to_simplified(doc.title), body=to_simplified(doc.body), locale="zh-CN",
        example_questions=[to_simplified(q) for q in doc.example_questions],
    )


class BruteForce:
    """The same BM25F scoring as the index, scanning every document in pure Python."""

    def __init__(self, docs: Sequence[SearchDoc], params: BM25FParams) -> None:
        self.params = params
        self.ids = [d.id for d in docs]
        self.public = [d.visibility == "public" for d in docs]
        self.boost = [d.boost for d in docs]
        terms: list[DocTerms] = [doc_terms(d) for d in docs]
        self.df = Counter(t for d in terms for t in d.counts)
        avg = [sum(d.lengths[f] for d in terms) / max(1, sum(d.lengths[f] > 0 for d in terms))
               or 1.0 for f in range(3)]
        w, b = params.weights, params.b
        self.docs = [
            (d.counts, [w[f] / (1 - b[f] + b[f] * d.lengths[f] / avg[f]) for f in range(3)])
            for d in terms
        ]

    def search(self, query: str, limit: int = 10) -> list[str]:
        n, k1 = len(self.docs), self.params.k1
        idf = {t: math.log(1 + (n - self.df[t] + 0.5) / (self.df[t] + 0.5))
               for t in dict.fromkeys(words(query) + cjk_bigrams(query)) if t in self.df}
        scored: list[tuple[float, int]] = []
        for slot, (counts, norm) in enumerate(self.docs):
            if not self.public[slot]:
                continue
            score = 0.0
            for term, weight in idf.items():
                f = counts.get(term)
                if f is not None:
                    tfn = f[0] * norm[0] + f[1] * norm[1] + f[2] * norm[2]
                    score += weight * tfn / (k1 + tfn)
            if score > 0:
                scored.append((-score * self.boost[slot], slot))
        scored.sort()
        return [str(self.ids[slot]) for _, slot in scored[:limit]]


def raw_words(text: str) -> list[str]:
    """Words without any normalisation (no NFKC, no OpenCC, no stemming): the control."""
    return [w for w in jieba.lcut(text.lower()) if any(c.isalnum() for c in w)]


class SqlLike:
    """SQLite in memory: a normalised search_key per article, ranked by words found.

    ``fold=False`` keeps the raw text on both sides: what matching without script
    folding does to a query in the other script."""

    def __init__(self, docs: Sequence[SearchDoc], fold: bool = True) -> None:
        self.fold = fold
        key = search_key if fold else str.lower
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE TABLE docs (id TEXT, visibility TEXT, key TEXT)")
        self.db.executemany("INSERT INTO docs VALUES (?, ?, ?)", [
            (str(d.id), str(d.visibility), key(" ".join([d.title, *d.example_questions, d.body])))
            for d in docs
        ])

    def search(self, query: str, limit: int = 10) -> list[str]:
        terms = list(dict.fromkeys(words(query) if self.fold else raw_words(query)))[:30]
        if not terms:
            return []
        found = " + ".join(["(instr(key, ?) > 0)"] * len(terms))
        sql = (f"SELECT id FROM (SELECT id, rowid AS r, {found} AS s FROM docs "
               "WHERE visibility = 'public') WHERE s > 0 ORDER BY s DESC, r LIMIT ?")
        return [row[0] for row in self.db.execute(sql, [*terms, limit])]


def run(search: Callable[[str], list[str]], queries: Sequence[Query]
        ) -> tuple[list[float], list[list[str]]]:
    """Latency (ms) and result ids of every query."""
    latencies, results = [], []
    for q in queries:
        start = time.perf_counter()
        ids = search(q.text)
        latencies.append((time.perf_counter() - start) * 1000)
        results.append(ids)
    return latencies, results


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def recall5(results: Sequence[list[str]], queries: Sequence[Query], source: str = "") -> float:
    pairs = [(r, q) for r, q in zip(results, queries, strict=True)
             if not source or q.source == source]
    return 100 * sum(q.label_id in r[:5] for r, q in pairs) / max(len(pairs), 1)


def engine(index: SearchIndex, highlight: bool = True) -> Callable[[str], list[str]]:
    def search(text: str) -> list[str]:
        hits = index.search(text, limit=10, visibility="public", highlight=highlight)
        return [str(h.doc_id) for h in hits]
    return search


def build_index(docs: Sequence[SearchDoc]) -> SearchIndex:
    start = time.perf_counter()
    index = SearchIndex()
    index.add_many(docs)
    print(f"index build: {len(index)} articles in {time.perf_counter() - start:.1f} s")
    return index


def line(name: str, lat: Sequence[float], results: Sequence[list[str]],
         queries: Sequence[Query]) -> None:
    print(f"  {name:<26} p50 {pct(lat, 50):8.2f} ms  p95 {pct(lat, 95):8.2f} ms  "
          f"mean {statistics.fmean(lat):8.2f} ms  recall@5 {recall5(results, queries):5.1f} % "
          f"(banking77 {recall5(results, queries, 'banking77'):5.1f}, "
          f"taipei-qa {recall5(results, queries, 'taipei-qa'):5.1f})")


def compare(docs: Sequence[SearchDoc], index: SearchIndex, queries: Sequence[Query],
            baseline_queries: int) -> None:
    print(f"\nall {len(queries)} queries, limit 10, visibility=public:")
    for _ in range(2):  # warm-up: jieba dictionary, caches
        run(engine(index), queries[:200])
    lat_hl, res_hl = run(engine(index), queries)
    lat, res = run(engine(index, highlight=False), queries)
    line("index + snippets", lat_hl, res_hl, queries)
    line("index, no snippets", lat, res, queries)
    step = max(1, len(queries) // max(baseline_queries, 1))
    pick = list(range(0, len(queries), step))
    subset = [queries[i] for i in pick]
    sub_lat = [lat[i] for i in pick]
    sub_res = [res[i] for i in pick]
    brute = BruteForce(docs, index.params)
    b_lat, b_res = run(brute.search, subset)
    sql = SqlLike(docs)
    s_lat, s_res = run(sql.search, subset)
    same = 100 * sum(a[:5] == b[:5] for a, b in zip(sub_res, b_res, strict=True)) / len(pick)
    print(f"\nsubset of {len(subset)} queries (every {step}th):")
    line("index, no snippets", sub_lat, sub_res, subset)
    line("brute-force BM25F scan", b_lat, b_res, subset)
    line("SQLite instr/LIKE scan", s_lat, s_res, subset)
    for name, other in (("brute force", b_lat), ("SQL LIKE", s_lat)):
        print(f"  speed-up over {name}: p50 x{pct(other, 50) / pct(sub_lat, 50):.0f}, "
              f"p95 x{pct(other, 95) / pct(sub_lat, 95):.0f}")
    print(f"  identical top-5 lists, index vs brute force: {same:.1f} %")


def cross_script(docs: Sequence[SearchDoc], index: SearchIndex, queries: Sequence[Query]) -> None:
    taipei = [q for q in queries if q.source == "taipei-qa"]
    simplified_q = [replace(q, text=to_simplified(q.text)) for q in taipei]
    changed = 100 * sum(a.text != b.text for a, b in zip(taipei, simplified_q, strict=True))
    print(f"\ncross-script, {len(taipei)} taipei-qa queries "
          f"({changed / len(taipei):.0f} % change under tw2sp); recall@5:")
    simplified_docs = [to_simplified_doc(d) for d in docs]
    simplified_index = build_index(simplified_docs)
    for index_name, ix in (("traditional", index), ("simplified", simplified_index)):
        for query_name, qs in (("traditional", taipei), ("simplified", simplified_q)):
            _, res = run(engine(ix, highlight=False), qs)
            print(f"  articles {index_name:<12} queries {query_name:<12} "
                  f"{recall5(res, qs):5.1f} %")
    control = taipei[::4]
    print(f"control: SQL LIKE on the raw text (no folding), {len(control)} queries; recall@5:")
    for index_name, articles in (("traditional", docs), ("simplified", simplified_docs)):
        _, res = run(SqlLike(articles, fold=False).search, control)
        print(f"  articles {index_name:<12} queries traditional  {recall5(res, control):5.1f} %")


SWEEP = [  # (k1, weights title/questions/body, b title/questions/body)
    (1.2, (2.0, 1.5, 1.0), (0.3, 0.5, 0.5)),
    (1.2, (1.0, 1.0, 1.0), (0.75, 0.75, 0.75)),
    (1.2, (2.5, 2.0, 1.0), (0.3, 0.5, 0.75)),
    (1.2, (3.0, 1.5, 1.0), (0.3, 0.5, 0.5)),
    (1.2, (2.0, 1.5, 1.0), (0.5, 0.5, 0.5)),
    (0.9, (2.0, 1.5, 1.0), (0.3, 0.5, 0.5)),
    (1.5, (2.0, 1.5, 1.0), (0.3, 0.5, 0.5)),
]


def sweep(corpus: Corpus) -> None:
    """recall@5 of a few BM25F settings, on the dev queries (chosen on) and the test ones."""
    print("\nparameter sweep, recall@5 dev / test:")
    for k1, weights, b in SWEEP:
        index = SearchIndex(params=BM25FParams(k1, weights, b))
        index.add_many(corpus.docs)
        _, dev = run(engine(index, highlight=False), corpus.dev)
        _, test = run(engine(index, highlight=False), corpus.queries)
        print(f"  k1 {k1:<4} weights {weights} b {b}: {recall5(dev, corpus.dev):5.1f} / "
              f"{recall5(test, corpus.queries):5.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--padding-lines", type=int, default=8,
                        help="bullets per padding article body (8: ~0.3-0.6 KB; 80: ~3-6 KB)")
    parser.add_argument("--baseline-queries", type=int, default=300,
                        help="queries for the brute-force and SQL baselines")
    parser.add_argument("--skip-cross-script", action="store_true")
    parser.add_argument("--sweep", action="store_true",
                        help="only compare BM25F parameter settings (about 2 minutes)")
    args = parser.parse_args()
    corpus = build_corpus(args.padding_lines)
    if args.sweep:
        sweep(corpus)
        return
    index = build_index(corpus.docs)
    gc.collect()
    compare(corpus.docs, index, corpus.queries, args.baseline_queries)
    if not args.skip_cross_script:
        cross_script(corpus.docs, index, corpus.queries)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the whole run: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
