"""Public API schemas: what the JSON API accepts and returns (never the table models themselves)."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ingest.forms import LessonEntry, RetrospectiveEntry
from kb.errors import InvalidInput
from kb.pmo.analytics import SearchReport
from kb.record.models import Document, Kind, Status, Verdict
from kb.search.searcher import Explanation, Hit, SearchResult

RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A row number")]
"""A path parameter naming a row by its integer id: bounded by the smallest id column (PostgreSQL ``integer``)."""
MAX_OFFSET = 1_000_000_000
"""Upper bound of a paging offset: more than any table here holds, far inside every integer type."""
NOT_BLANK = r"\S"
"""A pattern (matched anywhere) that a text of only spaces fails: declared in the OpenAPI schema too."""


class Incoming(BaseModel):
    """A request body: an unknown field is refused, not dropped (a misspelt field would be lost silently).

    The OpenAPI document says so (``additionalProperties: false``), so a
    generated client, or a fuzzer, knows what a valid body is.
    """

    model_config = ConfigDict(extra="forbid")


def _iso_date(value: object) -> object:
    """Only an ISO date string is a date in a JSON body (pydantic would read ``0`` as 1970-01-01)."""
    if not isinstance(value, str | dt.date):
        raise ValueError("a date is a string YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


class DocumentFields(BaseModel):
    """Fields a client may set on a document."""

    kind: Kind
    title: str = Field(min_length=1, max_length=500, pattern=NOT_BLANK)
    body: str = Field(default="", max_length=1_000_000)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$", description="ja, en…; detected when absent")
    project: str | None = None
    phase: str | None = None
    tags: list[str] = Field(default_factory=list)
    groups: list[str] = Field(
        default_factory=list, description="Restrict to these groups (empty: everyone who may read)"
    )
    owner: str | None = None
    status: Status = Status.published
    version: str | None = None
    review_by: IsoDate | None = None
    doc_date: IsoDate | None = None
    driving_event: str | None = None
    lesson: str | None = None
    recommendation: str | None = None
    impact: str | None = None
    category: str | None = None
    question: str | None = None
    answer: str | None = None
    supersedes: str | None = None


class DocumentCreate(Incoming, DocumentFields):
    pass


class DocumentPublic(DocumentFields):
    id: str
    language: str | None = None
    parent_id: str | None
    meta: dict[str, Any]
    source_name: str | None = Field(description="File name the document came from (no server path)")
    has_original: bool
    created_by: str | None = Field(description="Login of the account that stored it")
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, doc: Document) -> DocumentPublic:
        data = doc.model_dump(exclude={"source_path", "source_key", "content_hash", "attachment_id"})
        name = PurePosixPath(doc.source_path).name if doc.source_path else None
        return cls(**data, source_name=name, has_original=doc.attachment_id is not None)


class SnippetPartPublic(BaseModel):
    """A run of a hit's snippet, ``match`` when it is a query term (the API's ``{text, match}``)."""

    text: str
    match: bool


class Translation(BaseModel):
    query: str = Field(description="The query's word, as the query writes it")
    document: str = Field(description="The document's word it matched across languages, as the document writes it")


class ExplanationPublic(BaseModel):
    """Why a hit matched: in words first, then the engine's numbers (ranks, BM25, cosine, fused, strength)."""

    matched_words: list[str] = Field(description="The query's words the document holds, as the query writes them")
    via_translation: list[Translation]
    similar_meaning: bool = Field(description="The document is close in meaning to the query")
    match: str = Field(description="strong, good (confident) or weak")
    lexical_rank: int | None
    lexical_score: float | None
    dense_rank: int | None
    dense_score: float | None
    fused_score: float
    strength: float

    @classmethod
    def of(cls, e: Explanation) -> ExplanationPublic:
        return cls(
            matched_words=e.matched_words,
            via_translation=[Translation(query=q, document=d) for q, d in e.via_translation],
            similar_meaning=e.similar_meaning,
            match=e.match,
            lexical_rank=e.lexical_rank,
            lexical_score=e.lexical_score,
            dense_rank=e.dense_rank,
            dense_score=e.dense_score,
            fused_score=e.fused_score,
            strength=e.strength,
        )


class DocumentRef(BaseModel):
    """A document named by a hit: its retrospective, or a near-duplicate folded into it."""

    id: str
    kind: str
    title: str


class HitPublic(BaseModel):
    id: str
    kind: str
    title: str
    language: str
    project: str | None
    phase: str | None
    tags: list[str]
    status: str
    date: str | None
    score: float
    strength: float = Field(description="Match strength: 1.0 is the confidence line, below it a match is weak")
    heading: str
    snippet: list[SnippetPartPublic]
    explanation: ExplanationPublic | None = None
    parent: DocumentRef | None = Field(default=None, description="The retrospective this lesson was split from")
    similar: list[DocumentRef] = Field(
        default_factory=list, description="Near-duplicates folded into this hit (counted once in total and facets)"
    )
    location: str | None = Field(
        default=None, description="The sheet or slide of an office file the snippet is from ('sheet: WBS', 'slide 7')"
    )

    @classmethod
    def of(cls, hit: Hit, *, explain: bool) -> HitPublic:
        d = hit.document
        return cls(
            id=d.id,
            kind=d.kind,
            title=d.title,
            language=d.language,
            project=d.project,
            phase=d.phase,
            tags=d.tags,
            status=d.status,
            date=d.date,
            score=hit.score,
            strength=round(hit.explanation.strength, 4),
            heading=hit.heading,
            snippet=[SnippetPartPublic(text=s.text, match=s.match) for s in hit.snippet],
            explanation=ExplanationPublic.of(hit.explanation) if explain else None,
            parent=DocumentRef(id=hit.parent.id, kind=hit.parent.kind, title=hit.parent.title) if hit.parent else None,
            similar=[DocumentRef(id=s.id, kind=s.kind, title=s.title) for s in hit.similar],
            location=hit.location.label() if hit.location else None,
        )


class FacetValue(BaseModel):
    value: str
    count: int


class SearchResponse(BaseModel):
    query: str
    mode: str
    total: int = Field(description="Confident findings (every match with weak=true); a folded hit counts once")
    weak: int = Field(
        description="Matches below the confidence line that total leaves out: with no confident match, the "
        "findings weak=true lists (a folded hit once), else the documents left out"
    )
    offset: int
    limit: int
    took_ms: float
    hits: list[HitPublic]
    facets: dict[str, list[FacetValue]]

    @classmethod
    def of(cls, result: SearchResult, *, offset: int, limit: int, explain: bool) -> SearchResponse:
        return cls(
            query=result.query,
            mode=result.mode,
            total=result.total,
            weak=result.weak,
            offset=offset,
            limit=limit,
            took_ms=round(result.took_ms, 2),
            hits=[HitPublic.of(h, explain=explain) for h in result.hits],
            facets={k: [FacetValue(value=v, count=n) for v, n in vals] for k, vals in result.facets.items()},
        )


class LessonIn(Incoming):
    title: str | None = Field(default=None, max_length=300)
    driving_event: str | None = None
    lesson: str = Field(min_length=1, pattern=NOT_BLANK)
    recommendation: str | None = None


class RetrospectiveCreate(Incoming):
    title: str = Field(min_length=1, max_length=500, pattern=NOT_BLANK)
    project: str | None = None
    phase: str | None = None
    doc_date: IsoDate | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    owner: str | None = None
    tags: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list, description="Restrict it and its lessons to these groups")
    went_well: list[str] = Field(default_factory=list)
    went_wrong: list[str] = Field(default_factory=list)
    lessons: list[LessonIn] = Field(min_length=1)

    def entry(self) -> RetrospectiveEntry:
        """What the application layer stores (``ingest.forms``): the same fields, as plain data."""
        lessons = [
            LessonEntry(lesson=e.lesson, title=e.title, driving_event=e.driving_event, recommendation=e.recommendation)
            for e in self.lessons
        ]
        fields = self.model_dump(exclude={"lessons"})
        return RetrospectiveEntry(**fields, lessons=lessons)


class RetrospectiveCreated(BaseModel):
    retrospective: DocumentPublic
    lessons: list[DocumentPublic]


class FeedbackIn(Incoming):
    query: str = Field(default="", max_length=500)
    document_id: str
    helpful: bool | None = Field(default=None, description="Older clients: true or false (use ``verdict``)")
    verdict: Verdict | None = Field(default=None, description="helpful, not_helpful or outdated")
    comment: str = Field(default="", max_length=2000)

    def verdict_given(self) -> Verdict:
        """``verdict``, else what ``helpful`` said; one of them is needed."""
        if self.verdict is not None:
            return self.verdict
        if self.helpful is None:
            raise InvalidInput("give a verdict: helpful, not_helpful or outdated")
        return Verdict.helpful if self.helpful else Verdict.not_helpful


class FileResultPublic(BaseModel):
    filename: str
    status: str
    documents: int
    error: str | None


class UploadResponse(BaseModel):
    summary: dict[str, int]
    files: list[FileResultPublic]


class SearchReportPublic(BaseModel):
    searches: int
    zero_result_searches: int
    top_queries: list[FacetValue]
    zero_result_queries: list[FacetValue]

    @classmethod
    def of(cls, report: SearchReport) -> SearchReportPublic:
        return cls(
            searches=report.searches,
            zero_result_searches=report.zero_result_searches,
            top_queries=[FacetValue(value=q, count=n) for q, n in report.top_queries],
            zero_result_queries=[FacetValue(value=q, count=n) for q, n in report.zero_result_queries],
        )


class StatsPublic(BaseModel):
    documents: dict[str, int]
    index: dict[str, Any]
    searches: SearchReportPublic
