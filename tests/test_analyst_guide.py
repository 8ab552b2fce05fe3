"""Every query of docs/analyst-guide.md runs on a freshly built warehouse and answers with the columns its sample
shows (a mart renamed or a column dropped breaks the guide here, not in an analyst's hands)."""

import pytest

from bench.queries import GUIDE, guide_queries

QUERIES = guide_queries()


def test_the_guide_shows_a_sample_after_every_query():
    assert len(QUERIES) == GUIDE.read_text().count("```sql") >= 12


@pytest.mark.parametrize("sql, header", QUERIES, ids=[f"q{i + 1}" for i in range(len(QUERIES))])
def test_each_query_answers_with_the_columns_its_sample_shows(published, sql, header):
    result = published.execute(sql)
    assert [d[0] for d in result.description] == header.split(" | ")
    assert result.fetchall(), "the tiny fleet has every kind of row the guide asks about"
