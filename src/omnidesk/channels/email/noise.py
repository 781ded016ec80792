"""Mail that must never be answered automatically, and the per-sender rate limit.

Automatic mail (RFC 3834 ``Auto-Submitted`` other than ``no``; ``Precedence: bulk``,
``junk`` or ``list``; the X-Autoreply family; mailing-list mail) and bounces (RFC 3464
delivery-status reports, mail from mailer-daemon/postmaster) are stored like any other
mail but marked, so that no automatic acknowledgement or answer ever goes back — two
auto-responders answering each other is how mail loops start.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from omnidesk.channels.email.mime import ParsedMail

BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
MAX_SENDERS = 100_000


def automatic(parsed: ParsedMail) -> str | None:
    """Why this mail must not be answered automatically (None: a person wrote it)."""
    if parsed.bounce is not None:
        return "bounce"
    h = parsed.headers
    auto = h.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"auto-submitted: {auto}"
    precedence = h.get("precedence", "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond"):
        if name in h:
            return name
    if h.get("x-auto-response-suppress", "").strip().lower() in ("all", "oof", "autoreply"):
        return "x-auto-response-suppress"
    if "list-id" in h or "list-unsubscribe" in h:
        return "mailing list"
    if "x-loop" in h:
        return "x-loop"
    return None


class RateLimiter:
    """At most ``limit`` mails per sender in any ``window`` seconds (a sliding window, in
    this process's memory; the sender's server retries a 451 later)."""

    def __init__(self, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, sender: str, limit: int) -> bool:
        now = self.clock()
        times = self._seen.get(sender)
        if times is None:
            times = self._seen[sender] = deque()
            while len(self._seen) > MAX_SENDERS:
                self._seen.popitem(last=False)
        self._seen.move_to_end(sender)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= limit:
            return False
        times.append(now)
        return True
