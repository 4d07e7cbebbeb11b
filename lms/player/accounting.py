"""The rules that decide how much of a heartbeat counts as study time.

Pure functions over explicit inputs (including the server's ``now``), so every
rule can be tested by driving time directly. Nothing the browser says is
trusted beyond what the server's own clock and the video's length allow:

1. only inside a live learning session;
2. only for the learner's one active playback;
3. never more than the server clock advanced between accepted heartbeats;
4. only for contiguous forward progress at 1x (no jump, rate change or frozen video); a page that says
   its video is waiting for data ("buffering") earns nothing for the stall and is not flagged frozen, but
   gets no more than a pause would: only the forward stretch played before it, within the server clock;
5. not while a later rule blocks credit (a face check that is due);
6. not above the daily cap.

Networks delay, drop, reorder and bunch reports; none of that may cost an honest learner time:
- time the server saw pass while the video played but that a late report could not use is kept
  (``clock_reserve``, at most ``max_gap``) for the reports right behind it, so the total never
  exceeds the server clock but a late report's successor is not mistaken for a jump;
- a refused report never earns, but the playback is re-anchored at the position the server
  accepts as real (never beyond ``furthest``), so the next report is judged from there and honest
  watching earns again within one interval; the page is told that position and goes back to it.
"""
import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone

# Reasons that earn nothing because something looks wrong; staff see them counted per learner.
REFUSALS = ("session_ended", "superseded", "replay", "sequence", "concurrent", "client_clock", "beyond_length", "jump", "rate_change",
            "server_clock", "frozen", "gap", "idle", "daily_cap", "check_due", "face_missed")
# Reasons that earn nothing in normal use.
PAUSES = ("paused", "buffering", "hidden", "unfocused", "seek_back", "started")


@dataclass(frozen=True)
class Rules:
    heartbeat_interval: float = 12.0
    max_gap: float = 40.0            # a longer silence between heartbeats earns nothing
    position_slack: float = 1.5      # timer jitter allowed on positions, in seconds
    rate_slack: float = 0.15         # progress may run 15% ahead of the clock before it is a rate change
    client_clock_skew: float = 300.0
    end_tolerance: float = 3.0       # seconds at the end that need not be covered
    max_seq_step: int = 1000         # a report numbered further ahead of the last one is not a real page's
    daily_cap_seconds: float = 8 * 3600


def rules_from_config(config) -> Rules:
    return Rules(
        heartbeat_interval=float(config["LMS_HEARTBEAT_SECONDS"]),
        max_gap=float(config["LMS_HEARTBEAT_MAX_GAP"]),
        daily_cap_seconds=float(config["LMS_DAILY_CAP_MINUTES"]) * 60,
    )


@dataclass(frozen=True)
class Beat:
    """What the page reports; every field is a claim."""
    seq: int
    position: float
    playing: bool
    visible: bool
    focused: bool
    rate: float
    client_time: float | None = None  # epoch seconds by the client's clock
    buffering: bool = False           # asked to play, but waiting for data (HTML media readyState < HAVE_FUTURE_DATA)


@dataclass(frozen=True)
class PlaybackState:
    session_live: bool
    active: bool
    last_seq: int
    anchor_at: datetime | None
    anchor_position: float | None
    clock_reserve: float
    furthest: float
    duration: float
    credited_today: float
    anchor_playing: bool = False       # whether the video was playing when the anchor was set
    blocked_reason: str | None = None  # set by another module, e.g. a face check that is due


@dataclass(frozen=True)
class Verdict:
    credited: float
    reason: str | None
    covered: tuple[float, float] | None
    anchor_at: datetime | None
    anchor_position: float | None
    clock_reserve: float
    accepted_seq: bool  # whether this heartbeat's sequence number is consumed
    anchor_playing: bool = False


def judge(state: PlaybackState, beat: Beat, now: datetime, rules: Rules) -> Verdict:
    """Decide what one heartbeat earns and where the playback's anchor moves."""
    unchanged = Verdict(0.0, None, None, state.anchor_at, state.anchor_position, state.clock_reserve, False,
                        state.anchor_playing)
    if not state.session_live:
        return replace(unchanged, reason="session_ended")
    if not state.active:
        return replace(unchanged, reason="superseded")
    if beat.seq <= state.last_seq:
        return replace(unchanged, reason="replay")
    if beat.seq > state.last_seq + rules.max_seq_step:
        return replace(unchanged, reason="sequence")  # not consumed: one absurd number cannot end the playback
    consumed = replace(unchanged, accepted_seq=True)
    if beat.client_time is not None and abs(beat.client_time - _epoch(now)) > rules.client_clock_skew:
        return replace(consumed, reason="client_clock")
    if not 0 <= beat.position <= state.duration + rules.position_slack:
        return replace(consumed, reason="beyond_length")
    position = min(beat.position, state.duration)
    legit_position = position <= state.furthest + rules.position_slack
    # Where a refused report leaves the playback: where the page is, but never beyond what was watched.
    accepted = position if legit_position else state.furthest
    stopped = _stopped_reason(beat)
    moving = stopped is None
    if state.anchor_at is None or state.anchor_position is None:
        return _reanchor(consumed, now, accepted, "started" if legit_position else "jump", moving)
    if state.blocked_reason:
        return _reanchor(consumed, now, accepted, state.blocked_reason, False)
    if stopped and not state.anchor_playing:
        return _reanchor(consumed, now, accepted, stopped, False)
    # From here the video was playing at the anchor: a pause, the end or a hidden page still
    # earns the forward stretch up to that moment, judged like any other progress.
    elapsed = (now - state.anchor_at).total_seconds()
    if elapsed > rules.max_gap:
        return _reanchor(consumed, now, accepted, "gap", moving)
    delta = position - state.anchor_position
    if delta < -rules.position_slack:
        return _reanchor(consumed, now, position, "seek_back", moving)
    # A late report leaves clock time unused; the report right behind it may use it (see the docstring).
    budget = elapsed + state.clock_reserve
    allowed = budget * (1 + rules.rate_slack) + rules.position_slack
    if abs(beat.rate - 1.0) > 1e-6:
        return _reanchor(consumed, now, accepted if delta <= allowed else min(accepted, state.anchor_position),
                         "rate_change", moving)
    if delta > allowed:
        # Progress faster than the clock: a jump if it leaves the watched part, else a rate trick.
        reason = "jump" if not legit_position or delta > 2 * budget + rules.position_slack else "server_clock"
        return _reanchor(consumed, now, accepted, reason, moving)
    delta = max(delta, 0.0)
    credit = min(delta, budget)
    frozen = state.anchor_playing and elapsed >= 2 and delta < 0.25 * elapsed
    # Only a video that kept playing keeps unused time (a pause is not a late report). A late report looks
    # frozen when it is late by more than its interval, so a frozen one keeps it too: a page that claims to
    # play without moving and then leaps earns no more than the clock, and its reports are flagged "frozen".
    reserve = min(rules.max_gap, budget - credit) if moving else 0.0
    reason = stopped or ("frozen" if frozen else None)
    remaining_today = max(rules.daily_cap_seconds - state.credited_today, 0.0)
    if credit > remaining_today:
        credit, reason = remaining_today, "daily_cap"
    covered = (state.anchor_position, state.anchor_position + delta) if credit > 0 else None
    if covered and reason == "daily_cap":
        covered = (state.anchor_position, state.anchor_position + credit)
    return Verdict(round(credit, 3), reason, covered, now, position, reserve, True, moving)


def _stopped_reason(beat: Beat) -> str | None:
    # Hidden or unfocused first: the page pauses itself then, and the learner should read why.
    if not beat.visible:
        return "hidden"
    if not beat.focused:
        return "unfocused"
    if not beat.playing:
        return "paused"
    if beat.buffering:   # a stall is no progress: judged as a pause, never as a frozen video
        return "buffering"
    return None


def _reanchor(verdict: Verdict, now: datetime, position: float | None, reason: str, playing: bool) -> Verdict:
    return replace(verdict, reason=reason, anchor_at=now, anchor_position=position, clock_reserve=0.0,
                   anchor_playing=playing)


def _epoch(now: datetime) -> float:
    return now.replace(tzinfo=timezone.utc).timestamp()


# --- coverage -------------------------------------------------------------------------

def merge_interval(intervals: list[list[float]], new: tuple[float, float], join: float = 0.5) -> list[list[float]]:
    """Add [start, end] to sorted, merged intervals; touching intervals (within ``join`` s) become one."""
    start, end = new
    merged = []
    for a, b in sorted(intervals + [[start, end]]):
        if merged and a <= merged[-1][1] + join:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


def covered_seconds(intervals: list[list[float]]) -> float:
    return sum(b - a for a, b in intervals)


def load_intervals(text: str) -> list[list[float]]:
    return json.loads(text or "[]")


def dump_intervals(intervals: list[list[float]]) -> str:
    return json.dumps([[round(a, 3), round(b, 3)] for a, b in intervals])


def is_complete(covered: float, effective: float, duration: float, rules: Rules) -> bool:
    """Complete when the whole video is covered and effective time reaches its length (a few seconds' slack)."""
    need = max(duration - rules.end_tolerance, 0.0)
    return covered >= need and effective >= need
