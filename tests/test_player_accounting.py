"""Every accounting rule, driven by explicit server time: no sleeping."""
from datetime import datetime, timedelta

import pytest

from lms.player.accounting import (Beat, PlaybackState, Rules, covered_seconds, is_complete, judge,
                                   merge_interval)

T0 = datetime(2026, 11, 23, 4, 0, 0)
RULES = Rules(heartbeat_interval=10, max_gap=30, daily_cap_seconds=3600)


def state(**changes):
    base = dict(session_live=True, active=True, last_seq=1, anchor_at=T0, anchor_position=100.0, clock_reserve=0.0,
                furthest=100.0, duration=600.0, credited_today=0.0, anchor_playing=True, blocked_reason=None)
    base.update(changes)
    return PlaybackState(**base)


def beat(seq=2, position=110.0, playing=True, visible=True, focused=True, rate=1.0, client_time=None, **claims):
    return Beat(seq, position, playing, visible, focused, rate, client_time, **claims)


def at(seconds):
    return T0 + timedelta(seconds=seconds)


def test_normal_progress_earns_the_time_it_took():
    verdict = judge(state(), beat(position=110.0), at(10), RULES)
    assert verdict.credited == 10.0 and verdict.reason is None
    assert verdict.covered == (100.0, 110.0) and verdict.anchor_position == 110.0


def test_never_more_than_the_server_clock_advanced():
    # The page claims 10 s of progress but the server saw only 9 s pass: 9 s, the rest is kept in reserve.
    verdict = judge(state(), beat(position=110.0), at(9), RULES)
    assert verdict.credited == 9.0
    # Network jitter evens out: the reserve lets the next on-time beat catch up, never beyond the clock in total.
    nxt = judge(state(last_seq=2, anchor_at=at(9), anchor_position=110.0, clock_reserve=verdict.clock_reserve,
                      furthest=110.0), beat(seq=3, position=120.0), at(20), RULES)
    assert nxt.credited == 10.0
    assert verdict.credited + nxt.credited <= 20.0


def test_jump_ahead_earns_nothing_and_does_not_move_the_anchor():
    verdict = judge(state(), beat(position=590.0), at(10), RULES)
    assert verdict.credited == 0 and verdict.reason == "jump" and verdict.anchor_position == 100.0


def test_fast_playback_earns_nothing():
    assert judge(state(furthest=600), beat(position=260.0), at(10), RULES).reason == "jump"  # 16x
    assert judge(state(furthest=600), beat(position=114.0), at(10), RULES).reason == "server_clock"  # 1.4x
    reported = judge(state(), beat(position=110.0, rate=2.0), at(10), RULES)
    assert reported.credited == 0 and reported.reason == "rate_change"


def test_frozen_position_earns_nothing():
    verdict = judge(state(), beat(position=100.5), at(10), RULES)
    assert verdict.reason == "frozen" and verdict.credited == 0.5


@pytest.mark.parametrize("flags, reason", [
    (dict(playing=False), "paused"), (dict(visible=False), "hidden"), (dict(focused=False), "unfocused")])
def test_paused_hidden_or_unfocused_earns_nothing(flags, reason):
    stopped = judge(state(anchor_playing=False), beat(**flags), at(10), RULES)
    assert stopped.credited == 0 and stopped.reason == reason and stopped.anchor_at == at(10)
    assert not stopped.anchor_playing
    # Nothing is earned while it lasts either: the next report, still stopped, earns nothing.
    still = judge(state(anchor_playing=False, anchor_at=at(10), anchor_position=110.0, last_seq=2, furthest=110.0),
                  beat(seq=3, position=110.0, **flags), at(20), RULES)
    assert still.credited == 0


def test_the_stretch_before_a_pause_or_the_end_still_counts():
    # Playing at the anchor, then paused (or ended) 8 s later at 108 s: those 8 s were watched.
    paused = judge(state(), beat(position=108.0, playing=False), at(8), RULES)
    assert paused.credited == 8.0 and paused.reason == "paused" and not paused.anchor_playing
    ended = judge(state(duration=108.0), beat(position=108.0, playing=False), at(8), RULES)
    assert ended.credited == 8.0 and ended.covered == (100.0, 108.0)
    # Playing at the anchor, but the report claims more than the clock allows: still refused.
    assert judge(state(), beat(position=300.0, playing=False), at(8), RULES).credited == 0


def test_an_honest_stall_while_buffering_is_not_frozen_and_earns_nothing():
    # Playing at 100 s; 2 s played, then the video waited 10 s for data. Said as playing, it looks frozen ...
    assert judge(state(), beat(position=102.0), at(12), RULES).reason == "frozen"
    # ... said as buffering, it is not: the 2 s played count (as before a pause), the stall earns nothing.
    stalled = judge(state(), beat(position=102.0, buffering=True), at(12), RULES)
    assert stalled.reason == "buffering" and stalled.credited == 2.0 and stalled.covered == (100.0, 102.0)
    assert not stalled.anchor_playing and stalled.clock_reserve == 0 and stalled.anchor_position == 102.0
    # Stalled at once: nothing at all.
    at_once = judge(state(), beat(position=100.0, buffering=True), at(12), RULES)
    assert (at_once.reason, at_once.credited, at_once.covered) == ("buffering", 0, None)
    # Still stalled 10 s later: nothing, not frozen.
    still = judge(state(anchor_at=at(12), anchor_position=102.0, anchor_playing=False, last_seq=2, furthest=102.0),
                  beat(seq=3, position=102.0, buffering=True), at(22), RULES)
    assert (still.reason, still.credited) == ("buffering", 0)
    # Playing again: 5 s played since the data came earn 5 s, from where it stalled.
    resumed = judge(state(anchor_at=at(22), anchor_position=102.0, anchor_playing=False, last_seq=3, furthest=102.0),
                    beat(seq=4, position=107.0), at(32), RULES)
    assert (resumed.reason, resumed.credited, resumed.covered) == (None, 5.0, (102.0, 107.0))
    # What a page hides behind "buffering" is judged like any other report: more progress than the clock
    # allows earns nothing, and a hidden page is named hidden.
    assert judge(state(furthest=600), beat(position=260.0, buffering=True), at(10), RULES).credited == 0
    assert judge(state(), beat(position=110.0, buffering=True, visible=False), at(10), RULES).reason == "hidden"


def test_a_page_that_says_buffering_for_ever_earns_nothing():
    current = state(anchor_playing=False, anchor_at=None, anchor_position=None, last_seq=0, furthest=0.0)
    total = 0.0
    for seq in range(1, 30):   # 10 s apart, the position moving on at 1x as if playing
        verdict = judge(current, beat(seq=seq, position=10.0 * (seq - 1), buffering=True), at(10 * seq), RULES)
        assert verdict.reason in ("started", "buffering"), verdict
        total += verdict.credited
        current = state(anchor_at=verdict.anchor_at, anchor_position=verdict.anchor_position,
                        anchor_playing=verdict.anchor_playing, clock_reserve=verdict.clock_reserve, last_seq=seq,
                        furthest=max(current.furthest, verdict.anchor_position or 0.0))
    assert total == 0


def test_waiting_before_pressing_play_is_not_a_frozen_video():
    waited = judge(state(anchor_playing=False), beat(position=101.0), at(10), RULES)
    assert waited.reason is None and waited.credited == 1.0 and waited.anchor_playing


def test_seeking_back_is_allowed_but_that_interval_earns_nothing():
    verdict = judge(state(), beat(position=20.0), at(10), RULES)
    assert verdict.reason == "seek_back" and verdict.credited == 0 and verdict.anchor_position == 20.0
    rewatch = judge(state(anchor_at=at(10), anchor_position=20.0, last_seq=2), beat(seq=3, position=30.0), at(20),
                    RULES)
    assert rewatch.credited == 10.0 and rewatch.covered == (20.0, 30.0)


def test_live_session_and_single_active_playback_are_required():
    assert judge(state(session_live=False), beat(), at(10), RULES).reason == "session_ended"
    superseded = judge(state(active=False), beat(), at(10), RULES)
    assert superseded.reason == "superseded" and superseded.credited == 0 and not superseded.accepted_seq


def test_replayed_or_future_heartbeats_earn_nothing():
    assert judge(state(last_seq=5), beat(seq=5), at(10), RULES).reason == "replay"
    assert judge(state(last_seq=5), beat(seq=3), at(10), RULES).reason == "replay"
    future = T0.timestamp() + 3600 * 24
    assert judge(state(), beat(client_time=future), at(10), RULES).reason == "client_clock"


def test_positions_outside_the_video_are_refused():
    assert judge(state(), beat(position=-1), at(10), RULES).reason == "beyond_length"
    assert judge(state(), beat(position=9999), at(10), RULES).reason == "beyond_length"


def test_a_long_silence_earns_nothing():
    verdict = judge(state(), beat(position=140.0), at(40), RULES)
    assert verdict.reason == "gap" and verdict.credited == 0 and verdict.anchor_at == at(40)


def test_a_blocking_rule_from_another_module_voids_credit():
    verdict = judge(state(blocked_reason="check_due"), beat(), at(10), RULES)
    assert verdict.reason == "check_due" and verdict.credited == 0


def test_daily_cap_cuts_the_part_above_it():
    verdict = judge(state(credited_today=3596.0), beat(position=110.0), at(10), RULES)
    assert verdict.credited == 4.0 and verdict.reason == "daily_cap" and verdict.covered == (100.0, 104.0)
    assert judge(state(credited_today=3600.0), beat(), at(10), RULES).credited == 0


def test_first_heartbeat_only_anchors_and_cannot_start_ahead():
    first = judge(state(anchor_at=None, anchor_position=None, last_seq=0, furthest=50), beat(seq=1, position=40),
                  at(0), RULES)
    assert first.reason == "started" and first.credited == 0 and first.anchor_position == 40
    ahead = judge(state(anchor_at=None, anchor_position=None, last_seq=0, furthest=50), beat(seq=1, position=300),
                  at(0), RULES)
    # Refused, but anchored where the server accepts the page is: the next report is judged from there.
    assert ahead.reason == "jump" and ahead.credited == 0 and ahead.anchor_position == 50


def test_coverage_merges_and_rewatching_does_not_inflate_it():
    intervals = []
    for part in [(0, 10), (10, 20), (5, 15), (30, 40), (19.8, 30.1)]:
        intervals = merge_interval(intervals, part)
    assert intervals == [[0, 40]] and covered_seconds(intervals) == 40


def test_completion_needs_coverage_and_effective_time():
    assert is_complete(covered=598, effective=598, duration=600, rules=RULES)
    assert not is_complete(covered=600, effective=500, duration=600, rules=RULES)
    assert not is_complete(covered=500, effective=900, duration=600, rules=RULES)


def test_hidden_page_is_named_even_when_the_page_paused_itself():
    verdict = judge(state(), beat(playing=False, visible=False), at(10), RULES)
    assert verdict.reason == "hidden"
