"""Forward a live Asterisk ARI websocket to omnidesk's ARI endpoint.

    python -m omnidesk.channels.voice.ari_runner \\
        --ari ws://pbx:8088/ari/events --app omnidesk --user omnidesk --password secret \\
        --omnidesk http://127.0.0.1:8000 --inbox <voice inbox id> --secret <inbox secret>

Each ARI event is POSTed, signed with the inbox's secret, to
``/channels/voice/{inbox}/ari`` (so it goes through exactly the checks a webhook does).
A failed POST (omnidesk restarting) is retried with back-off before the next event is
read, so events stay in order; the websocket is reconnected when it drops.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
import urllib.parse

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from omnidesk.kit.security import sign_webhook

log = logging.getLogger(__name__)


def events_url(ari: str, app: str, user: str | None, password: str | None) -> str:
    query = {"app": app}
    if user is not None:
        query["api_key"] = f"{user}:{password or ''}"
    sep = "&" if "?" in ari else "?"
    return f"{ari}{sep}{urllib.parse.urlencode(query)}"


async def post_event(client: httpx.AsyncClient, url: str, secret: str, body: bytes,
                     attempts: int = 8) -> httpx.Response:
    """POST one event, signed; retried (fresh signature each time) while omnidesk is away."""
    delay = 0.5
    for attempt in range(attempts):
        ts = int(time.time())
        try:
            response = await client.post(url, content=body, headers={
                "Content-Type": "application/json", "X-Omnidesk-Timestamp": str(ts),
                "X-Omnidesk-Signature": sign_webhook(secret, ts, body)})
        except httpx.TransportError as exc:
            if attempt == attempts - 1:
                raise
            log.warning("omnidesk unreachable (%s); retrying in %.1f s", exc, delay)
        else:
            if response.status_code < 500:
                if response.status_code >= 400:
                    log.warning("ARI event refused (%s): %s", response.status_code,
                                response.text[:300])
                return response
            log.warning("omnidesk answered %s; retrying", response.status_code)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30)
    return response


async def forward(ari_url: str, omnidesk_url: str, inbox_id: str, secret: str, *,
                  max_events: int | None = None) -> int:
    """Read ARI events and post them until the websocket closes (or ``max_events``)."""
    target = f"{omnidesk_url.rstrip('/')}/channels/voice/{inbox_id}/ari"
    sent = 0
    async with connect(ari_url) as ws, httpx.AsyncClient(timeout=30) as client:
        try:
            async for message in ws:
                body = message.encode() if isinstance(message, str) else message
                await post_event(client, target, secret, body)
                sent += 1
                if max_events is not None and sent >= max_events:
                    break
        except ConnectionClosed:
            pass
    return sent


async def run_forever(ari_url: str, omnidesk_url: str, inbox_id: str, secret: str) -> None:
    while True:
        try:
            await forward(ari_url, omnidesk_url, inbox_id, secret)
            log.warning("ARI websocket closed; reconnecting")
        except (OSError, ConnectionClosed) as exc:
            log.warning("ARI websocket failed (%s); reconnecting", exc)
        await asyncio.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ari", required=True, help="ws://host:8088/ari/events")
    parser.add_argument("--app", default="omnidesk", help="the Stasis application name")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--omnidesk", required=True, help="omnidesk's base URL")
    parser.add_argument("--inbox", required=True, help="the voice inbox id")
    parser.add_argument("--secret", required=True, help="the voice inbox's secret")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    url = events_url(args.ari, args.app, args.user, args.password)
    asyncio.run(run_forever(url, args.omnidesk, args.inbox, args.secret))


if __name__ == "__main__":
    main()
