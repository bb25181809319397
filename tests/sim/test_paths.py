"""Price paths keep a bounded number of chunks built and give back the same values when one is rebuilt."""
import numpy as np

from mock_gateway.sim.paths import CHUNK_STEPS, CHUNKS_KEPT, FLOW_BY_SEC_TYPE, GbmPath, OptionPath, ScaledPath

FIELDS = ("mid", "last_size", "bid_size", "ask_size", "cum_volume", "cum_max", "cum_min")


def gbm(seed: int = 7) -> GbmPath:
    return GbmPath(180.0, 0.05, 0.3, 0.25, np.random.default_rng(seed), FLOW_BY_SEC_TYPE["STK"])


def test_a_long_path_holds_only_the_newest_chunks():
    path = gbm()
    last = 4 * CHUNKS_KEPT
    path.chunk(last)
    assert len(path._chunks) <= CHUNKS_KEPT and last in path._chunks


def test_a_chunk_let_go_is_rebuilt_with_the_same_values_and_later_chunks_stay_the_same():
    kept_all, bounded = gbm(), gbm()
    reference = {k: kept_all.chunk(k) for k in range(3 * CHUNKS_KEPT)}     # made in order, then held here
    bounded.chunk(3 * CHUNKS_KEPT - 1)                                      # chunk 0 long let go
    for k in (0, 5, 1, 3 * CHUNKS_KEPT - 1, 2):
        for name in FIELDS:
            assert np.array_equal(getattr(bounded.chunk(k), name), getattr(reference[k], name)), (k, name)
    # a rebuild does not move the stream: the next new chunk is the one an untouched path makes
    assert np.array_equal(bounded.chunk(3 * CHUNKS_KEPT).mid, kept_all.chunk(3 * CHUNKS_KEPT).mid)


def test_a_field_across_let_go_chunks_reads_the_same_grid():
    whole, bounded = gbm(3), gbm(3)
    n = (2 * CHUNKS_KEPT + 1) * CHUNK_STEPS
    expected = np.concatenate([whole.chunk(k).mid for k in range(2 * CHUNKS_KEPT + 1)])
    bounded.chunk(2 * CHUNKS_KEPT)
    assert np.array_equal(bounded.field("mid", 0, n), expected)


def test_paths_built_on_another_rebuild_through_it():
    base_a, base_b = gbm(11), gbm(11)
    option_a = OptionPath(base_a, 180.0, "C", 86400.0 * 60, 0.3, np.random.default_rng(1), FLOW_BY_SEC_TYPE["OPT"])
    option_b = OptionPath(base_b, 180.0, "C", 86400.0 * 60, 0.3, np.random.default_rng(1), FLOW_BY_SEC_TYPE["OPT"])
    scaled = ScaledPath(base_b, 1.01, np.random.default_rng(2), FLOW_BY_SEC_TYPE["FUT"])
    first = [option_a.chunk(k).mid.copy() for k in range(2 * CHUNKS_KEPT)]
    option_b.chunk(2 * CHUNKS_KEPT - 1)
    scaled.chunk(2 * CHUNKS_KEPT - 1)
    assert all(np.array_equal(option_b.chunk(k).mid, first[k]) for k in range(2 * CHUNKS_KEPT))
    assert np.array_equal(scaled.chunk(0).mid, base_a.chunk(0).mid * 1.01)
