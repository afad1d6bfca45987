"""Block Kit as plain text for a terminal, plus a Block Kit Builder link to see it as Slack would."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

BUILDER_URL = "https://app.slack.com/block-kit-builder/#"
_SLACK_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")


def plain_mrkdwn(text: str) -> str:
    """Slack's date tokens and links shown by their fallback text."""
    return _LINK.sub(r"\2 (\1)", _SLACK_DATE.sub(r"\1", text))


def _text(obj: dict[str, Any] | None) -> str:
    return plain_mrkdwn(obj.get("text", "")) if obj else ""


def _element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[ {_text(element.get('text'))} ]"
    if kind == "overflow":
        return "[ ⋮ " + " | ".join(_text(o.get("text")) for o in element.get("options", [])) + " ]"
    if kind in ("mrkdwn", "plain_text"):
        return plain_mrkdwn(element.get("text", ""))
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    return f"[{kind}]"


def render_blocks(blocks: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines += [_text(block.get("text")).upper(), "=" * min(60, len(_text(block.get("text"))))]
        elif kind == "section":
            if block.get("text"):
                lines.append(_text(block["text"]))
            lines += [f"  {_text(field).replace(chr(10), ': ', 1)}" for field in block.get("fields", [])]
            if block.get("accessory"):
                lines.append(f"  {_element(block['accessory'])}")
        elif kind in ("context", "actions"):
            lines.append("  ".join(_element(e) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("-" * 60)
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            lines.append(f"{_text(block.get('label'))}{optional}: [{block.get('element', {}).get('type')}]")
        else:
            lines.append(f"[{kind} block]")
    return "\n".join(lines)


def builder_link(blocks: list[dict[str, Any]]) -> str:
    return BUILDER_URL + quote(json.dumps({"blocks": blocks}, separators=(",", ":")))
