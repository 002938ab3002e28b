"""`formulas.reaches` is the rounded comparison `comparable(value) >= edge`, only cheaper."""

from hypothesis import given
from hypothesis import strategies as st

from service.rollups import formulas

EDGES = st.sampled_from([0.0, 0.4, 0.7, 1.0, 0.8, 0.6, 0.95, 0.05])
NEAR = st.integers(min_value=-3_000, max_value=3_000).map(lambda n: n * 1e-12)


@given(edge=EDGES, offset=NEAR)
def test_reaches_agrees_with_rounding_next_to_an_edge(edge: float, offset: float) -> None:
    assert formulas.reaches(edge + offset, edge) == (formulas.comparable(edge + offset) >= edge)


@given(edge=EDGES, value=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_reaches_agrees_with_rounding_anywhere(edge: float, value: float) -> None:
    assert formulas.reaches(value, edge) == (formulas.comparable(value) >= edge)
