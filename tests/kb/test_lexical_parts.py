"""The lexical index's two helpers on their own: the translator (glossary → English terms) and the term finder
(where a query's terms are in a hit's text)."""

from __future__ import annotations

from kb.search.analysis import Analyzer, Variants
from kb.search.lexical.highlight import TermFinder
from kb.search.lexical.translate import Translator
from tests.kb.test_crosslanguage import DictGlossary


def test_a_japanese_query_becomes_one_group_of_english_terms_per_word() -> None:
    translator = Translator(Analyzer(), DictGlossary({"遅延": ("delay", "lag"), "ベンダー": ("vendor",)}))
    assert translator.query_groups("ベンダーの遅延 PMO") == [["vendor"], ["delay", "lag"], ["pmo"]]
    assert translator.query_groups("謎の単語") == []  # no gloss, no group: nothing to match in English
    assert translator.gloss_field(["ベンダー", "pmo", "不明"]) == ["vendor", "pmo"]


def test_gloss_noise_and_japanese_in_glosses_are_dropped() -> None:
    translator = Translator(Analyzer(), DictGlossary({"提出": ("to submit (something) to someone", "提出書類")}))
    assert translator.english("提出") == ("submit",)


def test_the_finder_sees_spellings_the_index_learns_after_it_was_made() -> None:
    analyzer = Analyzer()
    variants: Variants = {}
    finder = TermFinder(analyzer, lambda: variants)
    text = "こどもの窓口"
    words = frozenset(analyzer.query_terms("子供"))
    assert finder.terms_in(text, words).terms == ()  # no trace of 子供 and no known spelling: run skipped
    analyzer.analyze(text, variants)  # as indexing the text does: こども is recorded as a spelling of 子供
    finder.spellings_changed()
    later = "お知らせ。" + text  # another text: the first one's analysis is cached
    found = finder.terms_in(later, words)
    assert [later[a:b] for _, a, b in found.terms] == ["こども"]
    assert finder.terms_in(later, words) is found  # cached per (text, words)
