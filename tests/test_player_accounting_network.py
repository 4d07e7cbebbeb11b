"""Honest watching under a real network: late, reordered, dropped and bunched reports, and a restarted
player, all driven by explicit server time. None of them may cost the learner credit for more than
one report interval, and none may earn more than the server clock."""
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.player.accounting import Beat, PlaybackState, Rules, judge

T0 = datetime(2026, 11, 23, 4, 0, 0)
RULES = Rules(heartbeat_interval=12, max_gap=40, daily_cap_seconds=8 * 3600)
DURATION = 3600.0


class Server:
    """The heartbeat path's state for one playback, kept as heartbeats.py keeps it."""

    def __init__(self, furthest=0.0):
        self.state = PlaybackState(session_live=True, active=True, last_seq=0, anchor_at=None, anchor_position=None,
                                   clock_reserve=0.0, furthest=furthest, duration=DURATION, credited_today=0.0)
        self.credited, self.reasons = 0.0, []

    def receive(self, seq, position, arrives_at, playing=True):
        verdict = judge(self.state, Beat(seq, position, playing, True, True, 1.0), T0 + timedelta(seconds=arrives_at),
                        RULES)
        self.credited += verdict.credited
        self.reasons.append(verdict.reason)
        furthest = max(self.state.furthest, verdict.covered[1]) if verdict.covered else self.state.furthest
        if verdict.accepted_seq:
            self.state = PlaybackState(
                session_live=True, active=True, last_seq=seq, anchor_at=verdict.anchor_at,
                anchor_position=verdict.anchor_position, clock_reserve=verdict.clock_reserve, furthest=furthest,
                duration=DURATION, credited_today=self.state.credited_today + verdict.credited,
                anchor_playing=verdict.anchor_playing)
        return verdict


def watch(server, arrivals, interval=12.0):
    """A page at 1x from position 0 at time 0 that sends report k at k * interval; ``arrivals`` maps
    each report to when it reaches the server (None: dropped). Reports are judged in arrival order."""
    delivered = sorted((at, seq) for seq, at in arrivals.items() if at is not None)
    for at, seq in delivered:
        server.receive(seq, (seq - 1) * interval, at)
    return server


def on_time(count, interval=12.0):
    return {seq: (seq - 1) * interval + 0.05 for seq in range(1, count + 1)}


def test_on_time_reports_earn_the_time_watched():
    server = watch(Server(), on_time(11))
    assert server.credited == 120.0 and set(server.reasons) <= {"started", None}


def test_one_late_report_and_the_next_right_behind_it_lose_nothing():
    # Before: the report after a 10 s late one was a "jump", and so was every report after it.
    arrivals = on_time(11)
    arrivals[4] = 36 + 10.0
    arrivals[5] = 48 + 0.05
    server = watch(Server(), arrivals)
    assert "jump" not in server.reasons
    assert server.credited == 120.0


def test_reordered_reports_refuse_the_older_one_and_lose_nothing():
    arrivals = on_time(11)
    arrivals[4], arrivals[5] = 48.2, 48.1   # report 5 overtakes report 4
    server = watch(Server(), arrivals)
    assert server.reasons.count("replay") == 1 and "jump" not in server.reasons
    assert server.credited == 120.0


def test_dropped_reports_lose_nothing_while_the_silence_is_shorter_than_the_gap_rule():
    arrivals = on_time(11)
    arrivals[4] = arrivals[5] = None   # 36 s of silence, under the 40 s gap rule
    server = watch(Server(), arrivals)
    assert server.credited == 120.0


def test_bunched_reports_after_a_stall_lose_nothing():
    arrivals = on_time(11)
    arrivals[4], arrivals[5], arrivals[6] = 61.0, 61.2, 61.4   # a 25 s stall, then three at once
    server = watch(Server(), arrivals)
    assert "jump" not in server.reasons and server.credited == 120.0


def test_a_long_silence_costs_that_stretch_only_and_watching_earns_again_within_one_interval():
    arrivals = on_time(16)
    for seq in (4, 5, 6, 7):
        arrivals[seq] = None   # 60 s without a report: more than the gap rule allows
    server = Server()
    for seq in (1, 2, 3):
        server.receive(seq, (seq - 1) * 12.0, arrivals[seq])
    gap = server.receive(8, 84.0, 84.05)
    assert gap.reason == "gap" and gap.credited == 0 and gap.anchor_position == 24.0   # never beyond furthest
    # The page goes back to the position the server accepted and plays on from there.
    server.receive(9, 24.0, 84.3)
    after = [server.receive(seq, 24.0 + (seq - 9) * 12.0, 84.3 + (seq - 9) * 12.0) for seq in range(10, 14)]
    assert all(v.reason is None and v.credited == 12.0 for v in after)


def test_a_restarted_player_ahead_of_the_credited_part_is_anchored_there_and_earns_again():
    # The signed link expired: the page starts a new playback from where the video stood, 7 s past the
    # last credited report (furthest 60). Before, such a playback was never anchored: every report a jump.
    server = Server(furthest=60.0)
    first = server.receive(1, 67.0, 100.0)
    assert first.reason == "jump" and first.credited == 0 and first.anchor_position == 60.0
    server.receive(2, 60.0, 100.3)   # the page goes back to the accepted position
    later = [server.receive(seq, 60.0 + (seq - 2) * 12.0, 100.3 + (seq - 2) * 12.0) for seq in range(3, 8)]
    assert sum(v.credited for v in later) == 60.0 and all(v.reason is None for v in later)


def test_the_reserve_never_lets_a_pause_pay_for_a_skip():
    server = Server()
    server.receive(1, 0.0, 0.0)
    server.receive(2, 12.0, 12.0)
    server.receive(3, 12.0, 12.5, playing=False)    # paused for a while ...
    server.receive(4, 12.0, 35.0)                   # ... plays again
    skip = server.receive(5, 60.0, 36.0)            # and claims 48 s of video in 1 s
    assert skip.reason == "jump" and skip.credited == 0


def test_a_report_numbered_far_ahead_is_ignored_and_does_not_end_the_playback():
    server = Server()
    server.receive(1, 0.0, 0.0)
    absurd = server.receive(2 ** 31 - 1, 12.0, 12.0)
    assert absurd.reason == "sequence" and not absurd.accepted_seq
    assert server.receive(2, 12.0, 12.1).credited == 12.0


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0.0, 20.0)), min_size=10, max_size=40))
def test_whatever_the_network_does_credit_never_exceeds_the_clock_and_honest_watching_keeps_earning(delays):
    """Each report is delayed by up to 20 s or dropped; the page's first and last reports arrive."""
    arrivals = {seq: None if delay is None else (seq - 1) * 12.0 + delay for seq, delay in enumerate(delays, 1)}
    last = len(delays)
    arrivals[1], arrivals[last] = 0.05, (last - 1) * 12.0 + 0.1
    server = watch(Server(), arrivals)
    assert server.credited <= arrivals[last] + 1e-6
    assert "server_clock" not in server.reasons
    if _longest_silence(arrivals) <= RULES.max_gap:
        assert "jump" not in server.reasons and "gap" not in server.reasons
        assert server.credited >= (last - 1) * 12.0 - 0.1   # all watched, less the first report's latency


def _longest_silence(arrivals):
    times = sorted(at for at in arrivals.values() if at is not None)
    return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)


def test_a_report_late_by_more_than_its_interval_looks_frozen_and_still_loses_nothing():
    # Reports every 3 s (as in the browser tests); report 4 (position 9) is held 10 s, and the page sends
    # the next one, from where the video then is, right behind it.
    server = Server()
    for seq, position in enumerate((0.0, 3.0, 6.0), start=1):
        server.receive(seq, position, position + 0.05)
    late = server.receive(4, 9.0, 19.0)
    assert late.reason == "frozen" and late.credited == 3.0   # 3 s of progress in 13 s
    behind = [server.receive(5 + k, 19.0 + 3 * k, 19.05 + 3 * k) for k in range(4)]
    assert [v.reason for v in behind] == [None] * 4
    assert server.credited == pytest.approx(28.0)
