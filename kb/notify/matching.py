"""Which subscriptions a batch of new or changed documents matches, as each subscriber may see them.

A saved search matches a document the searcher ranks at or over the
confidence line for its query, within its filters and the *subscriber's*
visibility (``Filters.visible_to``, as their own search would): a restricted
lesson is never matched for an outsider. Topics, projects, kinds and single
documents match on the document's fields, folded by the vocabulary (テスト and
test are one phase). Every match is checked once more against the subscriber's
groups (a search filter and a field rule alike), and again at send time.

Cost: one search per distinct (query, filters, visibility) per batch,
whatever the batch size; field rules are a dictionary pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from kb.identity.access import Principal
from kb.pmo.vocabulary import Vocabulary, fold
from kb.record.models import Document
from kb.record.notifications import Subscription
from kb.search.searcher import Filters, Searcher

# filter names a saved search keeps, as Filters.of takes them
FILTER_NAMES = ("kinds", "projects", "phases", "tags", "languages")
_Rule = Callable[[Document], bool]


@dataclass(frozen=True)
class Match:
    subscription: Subscription
    document: Document


def search_filters(subscription: Subscription, who: Principal) -> Filters:
    """The saved search's filters, seen as ``who`` sees the store."""
    kept = subscription.filters
    return Filters.of(
        kinds=kept.get("kinds"),
        projects=kept.get("projects"),
        phases=kept.get("phases"),
        tags=kept.get("tags"),
        languages=kept.get("languages"),
        visible_to=who.visible_to,
    )


def matches(
    *,
    subscriptions: Iterable[Subscription],
    documents: Sequence[Document],
    principals: Mapping[str, Principal],
    searcher: Searcher,
    vocabulary: Vocabulary,
    projects: Mapping[str, Sequence[str]] | None = None,
) -> list[Match]:
    """Every (subscription, document) pair that matches, for owners in ``principals`` (the active accounts).

    ``projects`` maps a project's name to its aliases (the register), so a
    project subscription also matches documents filed under another spelling.
    """
    by_id = {d.id: d for d in documents}
    found: list[Match] = []
    searches: dict[tuple[str, Filters], list[Subscription]] = defaultdict(list)
    for sub in subscriptions:
        who = principals.get(sub.owner)
        if who is None or not sub.active:
            continue
        if sub.topic == "search":
            searches[(sub.query.strip(), search_filters(sub, who))].append(sub)
            continue
        rule = _field_rule(sub, vocabulary, projects or {})
        found += [Match(sub, d) for d in documents if rule(d) and who.can_see(d.groups)]
    for (query, filters), subs in searches.items():
        hit_ids = [d for d in searcher.confident_documents(query, filters=filters) if d in by_id]
        for sub in subs:
            who = principals[sub.owner]
            found += [Match(sub, by_id[d]) for d in hit_ids if who.can_see(by_id[d].groups)]
    return found


def _field_rule(sub: Subscription, vocabulary: Vocabulary, projects: Mapping[str, Sequence[str]]) -> _Rule:
    target = sub.target.strip()
    if sub.topic == "document":
        return lambda d: d.id == target or d.supersedes == target
    if sub.topic == "kind":
        return lambda d: d.kind.value == target
    if sub.topic == "project":
        names = {fold(n) for n in (target, *projects.get(target, ()))}
        return lambda d: bool(d.project) and fold(d.project or "") in names
    if sub.topic == "category":
        wanted = fold(vocabulary.canonical("category", target) or "")
        return lambda d: fold(vocabulary.canonical("category", d.category) or "") == wanted
    if sub.topic == "phase":
        wanted = fold(vocabulary.canonical("phase", target) or "")
        return lambda d: fold(vocabulary.canonical("phase", d.phase) or "") == wanted
    if sub.topic == "tag":
        wanted = fold(vocabulary.canonical("tag", target) or "")
        return lambda d: any(fold(vocabulary.canonical("tag", t) or "") == wanted for t in d.tags)
    return lambda d: False
