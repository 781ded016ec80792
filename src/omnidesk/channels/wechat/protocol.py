"""WeChat's callback protocol, through wechatpy: the signature, safe (AES) mode, the XML.

WeChat signs every callback with ``signature = sha1(sort(token, timestamp, nonce))`` in
the query string. In safe mode the body is ``<xml><Encrypt>…</Encrypt></xml>`` with
``encrypt_type=aes`` and ``msg_signature`` (over the ciphertext too); the passive reply
is then encrypted the same way. WeChat reads plain-text bodies, so every failure here is
a :class:`CallbackError` carrying a status and a short plain-text reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from omnidesk.channels.wechat.config import WeChatConfig

MAX_BODY_BYTES = 256 * 1024


class CallbackError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


@dataclass
class Incoming:
    """One verified, decrypted and parsed callback."""

    message: BaseMessage
    fields: dict[str, Any]  # the XML's fields as WeChat named them (MsgType, MsgId, …)
    encrypted: bool

    @property
    def msg_type(self) -> str:
        return str(self.fields.get("MsgType") or "").lower()

    @property
    def event(self) -> str | None:
        if self.msg_type != "event":
            return None
        # wechatpy names a scan-to-follow "subscribe_scan" (EventKey qrscene_…)
        known = getattr(self.message, "event", "")
        return str(known or self.fields.get("Event") or "").lower() or None

    @property
    def openid(self) -> str:
        return str(self.fields.get("FromUserName") or "")


def check_query_signature(cfg: WeChatConfig, params: Mapping[str, str]) -> None:
    signature, timestamp, nonce = (params.get(k, "") for k in ("signature", "timestamp", "nonce"))
    if not (signature and timestamp and nonce):
        raise CallbackError(403, "missing signature, timestamp or nonce")
    try:
        check_signature(cfg.token, signature, timestamp, nonce)
    except InvalidSignatureException as exc:
        raise CallbackError(403, "invalid signature") from exc


def _crypto(cfg: WeChatConfig) -> WeChatCrypto:
    if cfg.encoding_aes_key is None:
        raise CallbackError(400, "encrypted message but the inbox has no encoding_aes_key")
    return WeChatCrypto(cfg.token, cfg.encoding_aes_key, cfg.app_id)


def _parse_xml(body: bytes | str) -> dict[str, Any]:
    try:
        doc = xmltodict.parse(body, disable_entities=True)
    except (ExpatError, ValueError, UnicodeError) as exc:
        raise CallbackError(400, "malformed XML") from exc
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise CallbackError(400, "malformed XML: expected an <xml> element with fields")
    return dict(root)


def _decrypt(cfg: WeChatConfig, params: Mapping[str, str], outer: dict[str, Any]) -> str:
    msg_signature = params.get("msg_signature", "")
    if not msg_signature or not isinstance(outer.get("Encrypt"), str):
        raise CallbackError(400, "encrypted message without msg_signature or Encrypt")
    try:
        return str(_crypto(cfg).decrypt_message(
            outer, msg_signature, params.get("timestamp", ""), params.get("nonce", "")))
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        raise CallbackError(403, "invalid msg_signature or AppId") from exc
    except CallbackError:
        raise
    except Exception as exc:  # bad base64, padding or length: not a WeChat ciphertext
        raise CallbackError(400, "cannot decrypt the message") from exc


def check_length(content_length: str | None) -> None:
    """Refuse an oversized body before reading it (WeChat's are a few hundred bytes)."""
    if content_length and content_length.isdigit() and int(content_length) > MAX_BODY_BYTES:
        raise CallbackError(413, "message too large")


def read_message(cfg: WeChatConfig, params: Mapping[str, str], body: bytes) -> Incoming:
    """Decrypt (safe mode) and parse a callback body whose query signature was checked."""
    if len(body) > MAX_BODY_BYTES:
        raise CallbackError(413, "message too large")
    outer = _parse_xml(body)
    encrypted = params.get("encrypt_type", "").lower() == "aes"
    xml: bytes | str = body
    if encrypted:
        xml = _decrypt(cfg, params, outer)
        fields = _parse_xml(xml)
    elif cfg.mode == "safe":
        raise CallbackError(403, "this inbox is in safe mode: messages must be encrypted")
    else:
        fields = outer
    for name in ("FromUserName", "MsgType", "CreateTime"):
        if not isinstance(fields.get(name), str) or not fields[name].strip():
            raise CallbackError(400, f"malformed message: {name} missing")
    if not fields["CreateTime"].strip().isdigit():
        raise CallbackError(400, "malformed message: CreateTime is not a Unix time")
    try:
        message = parse_message(xml)
    except (ExpatError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CallbackError(400, "malformed message") from exc
    return Incoming(message=message, fields=fields, encrypted=encrypted)


def render_reply(cfg: WeChatConfig, incoming: Incoming, text: str,
                 params: Mapping[str, str]) -> str:
    """The passive text reply, encrypted when the message came encrypted."""
    xml = TextReply(message=incoming.message, content=text).render()
    if not incoming.encrypted:
        return str(xml)
    nonce = params.get("nonce", "")
    return str(_crypto(cfg).encrypt_message(xml, nonce, params.get("timestamp") or None))
