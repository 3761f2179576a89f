"""Load and validate a knowledge base: plain files people edit and review.

Layout of a knowledge base folder::

    kb.yaml               name, description, languages, default_language, match_threshold,
                          speech_prompt (per language: vocabulary the recogniser should expect)
    articles/<id>.md      YAML front matter (id, title, answer, intent, tags, language,
                          phrasings, source, related) + a Markdown body with the details
    offers.yaml           the offer catalogue (assist.guidance.offers)
    customers.csv         demo customer directory (assist.guidance.profiles)

Every mistake is reported with its file and line, all at once, so a reviewer fixes them in one
pass; a knowledge base with errors is never half-loaded.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assist.errors import AssistError

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n?(.*)\Z", re.S)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class KnowledgeError(AssistError):
    """The knowledge base has mistakes; ``problems`` lists each as 'file:line: message'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("knowledge base has errors:\n  " + "\n  ".join(problems))
        self.problems = problems


class ArticleModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: str
    title: str = Field(min_length=1, max_length=200)
    answer: str = Field(min_length=1, max_length=600)
    intent: str = Field(min_length=1, max_length=100)
    tags: list[str] = Field(default_factory=list)
    language: str = Field("en", min_length=2, max_length=8)
    phrasings: list[str] = Field(default_factory=list)
    source: str | None = None
    related: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lower-case letters, digits and hyphens")
        return value

    @field_validator("source")
    @classmethod
    def _source_is_a_web_or_mail_link(cls, value: str | None) -> str | None:
        # Shown to agents as a link: a javascript: or data: URL in a KB file would run in their page.
        if value is not None and not value.lower().startswith(("https://", "http://", "mailto:")):
            raise ValueError("must be an http(s):// or mailto: link")
        return value

    @field_validator("phrasings")
    @classmethod
    def _phrasings_text(cls, value: list[str]) -> list[str]:
        cleaned = [str(p).strip() for p in value]
        if any(not p for p in cleaned):
            raise ValueError("phrasings must not be empty strings")
        return cleaned


class KbMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    languages: list[str] = Field(default_factory=lambda: ["en"])
    default_language: str = "en"
    match_threshold: float | None = Field(None, ge=0.0, le=1.0)  # overrides the matcher's default
    # Per language, a line of the words callers will say (company, products, terms) that the
    # recogniser reads before each utterance: it decides spellings and script (docs/stt.md).
    speech_prompt: dict[str, Annotated[str, Field(max_length=200)]] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    title: str
    answer: str
    intent: str
    tags: tuple[str, ...]
    language: str
    phrasings: tuple[str, ...]
    source: str | None
    related: tuple[str, ...]
    body: str
    path: str  # relative to the knowledge base folder, for error messages and review

    def texts(self) -> list[str]:
        """What a customer's words are matched against: title and phrasings."""
        return [self.title, *self.phrasings]


@dataclass(frozen=True)
class KnowledgeBase:
    name: str
    description: str
    languages: tuple[str, ...]
    default_language: str
    articles: tuple[Article, ...]
    root: Path | None = None
    match_threshold: float | None = None
    speech_prompts: tuple[tuple[str, str], ...] = ()  # (language, text) from kb.yaml speech_prompt
    by_id: dict[str, Article] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_id.update({a.id: a for a in self.articles})

    @property
    def content_hash(self) -> str:
        """Changes whenever anything matching depends on changes (indexes are cached by it)."""
        digest = hashlib.sha256()
        for article in sorted(self.articles, key=lambda a: a.id):
            for part in (article.id, article.language, article.intent, *article.texts()):
                digest.update(part.encode())
                digest.update(b"\x00")
        return digest.hexdigest()[:16]

    def intents(self) -> list[str]:
        return sorted({a.intent for a in self.articles})


def _line_of(front_matter: str, key: str) -> int:
    """1-based line of ``key:`` inside the file (front matter starts on line 2)."""
    for number, line in enumerate(front_matter.splitlines(), start=2):
        if re.match(rf"^{re.escape(key)}\s*:", line):
            return number
    return 1


def parse_article(text: str, rel_path: str) -> tuple[Article | None, list[str]]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, [f"{rel_path}:1: missing YAML front matter (a '---' line, fields, a '---' line)"]
    front, body = match.group(1), match.group(2)
    try:
        data = yaml.safe_load(front)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        return None, [f"{rel_path}:{line}: invalid YAML: {problem}"]
    if not isinstance(data, dict):
        return None, [f"{rel_path}:2: front matter must be a mapping of fields"]
    try:
        model = ArticleModel.model_validate(data)
    except ValidationError as error:
        problems = []
        for issue in error.errors():
            key = str(issue["loc"][0]) if issue["loc"] else ""
            where = ".".join(str(p) for p in issue["loc"])
            problems.append(f"{rel_path}:{_line_of(front, key)}: {where}: {issue['msg']}")
        return None, problems
    expected_id = Path(rel_path).stem
    if model.id != expected_id:
        return None, [f"{rel_path}:{_line_of(front, 'id')}: id {model.id!r} must match the file name {expected_id!r}"]
    if not model.phrasings:
        return None, [f"{rel_path}:{_line_of(front, 'phrasings')}: phrasings: add at least one customer phrasing"]
    tags = tuple(dict.fromkeys([*model.tags, model.intent]))
    return Article(
        model.id,
        model.title,
        model.answer,
        model.intent,
        tags,
        model.language,
        tuple(model.phrasings),
        model.source,
        tuple(model.related),
        body.strip(),
        rel_path,
    ), []


def load_kb(root: Path) -> KnowledgeBase:
    """Load ``root`` or raise KnowledgeError listing every problem with file:line."""
    root = Path(root)
    problems: list[str] = []
    meta_path = root / "kb.yaml"
    meta = KbMeta(name=root.name, match_threshold=None)
    if meta_path.exists():
        try:
            meta = KbMeta.model_validate(yaml.safe_load(meta_path.read_text()) or {})
        except (yaml.YAMLError, ValidationError) as error:
            problems.append(f"kb.yaml:1: {error}")
    article_dir = root / "articles"
    if not article_dir.is_dir():
        raise KnowledgeError([f"{root}: no articles/ folder"])
    articles: list[Article] = []
    seen: dict[str, str] = {}
    for path in sorted(article_dir.glob("*.md")):
        rel = str(path.relative_to(root))
        article, issues = parse_article(path.read_text(encoding="utf-8"), rel)
        problems.extend(issues)
        if article is None:
            continue
        if article.id in seen:
            problems.append(f"{rel}:1: duplicate id {article.id!r} (also in {seen[article.id]})")
            continue
        if article.language not in meta.languages:
            problems.append(f"{rel}:1: language {article.language!r} not in kb.yaml languages {meta.languages}")
        seen[article.id] = rel
        articles.append(article)
    for article in articles:
        for other in article.related:
            if other not in seen:
                problems.append(f"{article.path}:1: related article {other!r} does not exist")
    if problems:
        raise KnowledgeError(problems)
    if not articles:
        raise KnowledgeError([f"{article_dir}: no articles"])
    return KnowledgeBase(
        meta.name,
        meta.description,
        tuple(meta.languages),
        meta.default_language,
        tuple(articles),
        root,
        meta.match_threshold,
        tuple(sorted(meta.speech_prompt.items())),
    )


def kb_from_examples(name: str, examples: dict[str, list[str]], language: str = "en") -> KnowledgeBase:
    """A knowledge base with one article per label whose phrasings are the examples
    (used by ``kb benchmark`` to evaluate the production matcher on labelled data)."""
    articles = tuple(
        Article(
            id=re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "label",
            title=label.replace("_", " "),
            answer=label,
            intent=label,
            tags=(label,),
            language=language,
            phrasings=tuple(texts),
            source=None,
            related=(),
            body="",
            path=f"<{label}>",
        )
        for label, texts in sorted(examples.items())
    )
    return KnowledgeBase(name, "", (language,), language, articles)
