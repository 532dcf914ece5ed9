"""Crowds (issue 9, bounded tick): what the clusters tell, and that nothing else is lost.

The judge is :func:`~deconfliction.tactical.detect` over every pair: the pair search
around crowds must give exactly its pairs less those inside a group between two parties
crowded together, and every cluster must stand for at least ``threshold`` real pairs.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.tactical import CPU, DetectionParams, detect
from deconfliction.tactical.params import FEED_MODEL
from deconfliction.tactical.state import TrafficState
from deconfliction.tracks.crowds import Crowds, find_crowds, pairs_around
from deconfliction.tracks.engine import TRACK_CLUSTER, TRACK_TRACK, Separation, track_track
from deconfliction.tracks.registry import Snapshot

PARAMS = DetectionParams()
# The feed model with a floor high enough that descents in the crowd land, and a
# ground rule that takes slow aircraft near it out: both must keep them out of crowds.
HIGH_FLOOR = DetectionParams(
    model=replace(FEED_MODEL, floor_m=2_900.0, ground_height_m=100.0, takeoff_speed_mps=30.0)
)


def traffic(
    seed: int, crowd: int, spread_deg: float, parties: int, others: int, grounded: float = 0.0
) -> TrafficState:
    """``crowd`` aircraft of each of the first two parties within ``spread_deg`` of one
    point, and ``others`` aircraft of any of ``parties`` parties scattered around it."""
    rng = np.random.default_rng(seed)
    n = 2 * crowd + others
    lon = np.concatenate(
        [8.0 + rng.uniform(-spread_deg, spread_deg, 2 * crowd), rng.uniform(7.0, 9.0, others)]
    )
    lat = np.concatenate(
        [47.0 + rng.uniform(-spread_deg, spread_deg, 2 * crowd), rng.uniform(46.3, 47.7, others)]
    )
    alt = np.concatenate(
        [3_000.0 + rng.uniform(-80.0, 80.0, 2 * crowd), rng.uniform(1_000.0, 5_000.0, others)]
    )
    party = np.concatenate([np.repeat([1, 2], crowd), rng.integers(1, parties + 1, others)])
    return TrafficState(
        ids=[f"x{k:05d}" for k in range(n)],
        party=party,
        lon=lon,
        lat=lat,
        alt_m=alt,
        gs_mps=rng.uniform(0.0, 250.0, n),
        trk_deg=rng.uniform(0.0, 360.0, n),
        vs_mps=rng.choice([0.0, 0.0, -8.0, 8.0, -0.3], n),
        on_ground=rng.random(n) < grounded,
    )


def told_by_clusters(
    state: TrafficState, crowds: Crowds, i: np.ndarray, j: np.ndarray
) -> np.ndarray:
    crowded = {(int(crowds.group[c.members[c.parties[0]][0]]), c.parties) for c in crowds.clusters}
    a, b = state.party[i], state.party[j]
    return np.array(
        [
            g == h >= 0 and (int(g), (min(p, q), max(p, q))) in crowded
            for g, h, p, q in zip(
                crowds.group[i], crowds.group[j], a.tolist(), b.tolist(), strict=True
            )
        ],
        dtype=bool,
    )


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    crowd=st.integers(0, 60),
    spread=st.sampled_from([0.002, 0.02, 0.2]),
    parties=st.integers(2, 4),
    others=st.integers(0, 150),
    threshold=st.sampled_from([1, 10, 100]),
    params=st.sampled_from([PARAMS, DetectionParams(model=FEED_MODEL), HIGH_FLOOR]),
    grounded=st.sampled_from([0.0, 0.3]),
)
def test_the_search_around_crowds_is_every_pair_less_the_clusters(
    seed: int,
    crowd: int,
    spread: float,
    parties: int,
    others: int,
    threshold: int,
    params: DetectionParams,
    grounded: float,
) -> None:
    state = traffic(seed, crowd, spread, parties, others, grounded)
    crowds = find_crowds(state, params, threshold)
    every = detect(state, params)
    expected = ~told_by_clusters(state, crowds, every.i, every.j)
    found = pairs_around(state, crowds, params, CPU)
    assert list(zip(found.i.tolist(), found.j.tolist(), strict=True)) == list(
        zip(every.i[expected].tolist(), every.j[expected].tolist(), strict=True)
    )
    np.testing.assert_array_equal(found.tin, every.tin[expected])
    for cluster in crowds.clusters:
        a, b = cluster.parties
        inside = np.isin(every.i, cluster.members[a]) & np.isin(every.j, cluster.members[b])
        inside |= np.isin(every.i, cluster.members[b]) & np.isin(every.j, cluster.members[a])
        assert inside.sum() >= threshold  # the cluster stands for real pairs
        if cluster.tin_s == 0.0:
            assert every.los[inside].sum() >= threshold  # ... a loss of separation now
    if state.on_ground is not None:
        members = crowds.group >= 0
        assert not (members & state.on_ground).any()  # on the ground: in no crowd


def test_a_crowd_is_one_finding_and_sparse_traffic_is_as_before() -> None:
    dense = traffic(1, 200, 0.004, 3, 100)
    snapshot = Snapshot(0.0, dense, (None,) * len(dense), np.zeros(len(dense)))
    findings = track_track(snapshot, Separation(), cluster_pairs=10)
    clusters = [f for f in findings if f.kind == TRACK_CLUSTER]
    assert [f.key for f in clusters] == [(TRACK_CLUSTER, "1", "2")]
    crowd = clusters[0].crowd
    assert crowd is not None
    assert crowd.counts[1] >= 200  # the crowd, and any aircraft of theirs at its edge
    assert crowd.counts[2] >= 200
    assert clusters[0].inside
    assert clusters[0].aircraft == ()
    crowd_ids = {f"x{k:05d}" for k in range(400)}
    assert not [
        f for f in findings if f.kind == TRACK_TRACK and set(f.aircraft) <= crowd_ids
    ]  # not 40,000 pairs

    sparse = traffic(2, 0, 0.0, 3, 400)
    snapshot = Snapshot(0.0, sparse, (None,) * len(sparse), np.zeros(len(sparse)))
    with_clusters = track_track(snapshot, Separation(), cluster_pairs=10)
    assert with_clusters == track_track(snapshot, Separation(), cluster_pairs=0)
    assert {f.kind for f in with_clusters} == {TRACK_TRACK}
