"""The recipients file a user uploaded in the modal: `files.info` (bot token, `files:read`) says where it is,
and it is fetched from there with the bot token as a Bearer header, at most 5 MB of it.

The token is sent only to Slack: the file's address must be on slack.com (or on the Web API's own host,
which `SLACK_API_URL` points at a fake Slack in tests). Slack answers a token without access to the file
with its sign-in page, not an error: an HTML answer is reported as such, not read as a list of numbers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.campaign.recipients import FILE_FIELD, MAX_FILE_BYTES, MAX_FILE_MB, RecipientsProblem, text_of
from handlers.campaign.form import file_problem
from handlers.interaction import Interaction

DOWNLOAD_SECONDS: Final = 60
_CHUNK: Final = 64 * 1024


async def recipients_file(interaction: Interaction[Any], file_id: str) -> str:
    """The uploaded file's text; RecipientsProblem naming the file field when it cannot be had."""
    try:
        info = await interaction.client.files_info(file=file_id)
    except SlackApiError as failure:
        reason = failure.response.get("error") if failure.response is not None else "no answer"
        raise RecipientsProblem(FILE_FIELD, f"Slack would not let me open it ({reason}).") from failure
    file = info.get("file")
    if not isinstance(file, dict):
        raise RecipientsProblem(FILE_FIELD, "Slack did not describe the file. Upload it again.")
    problem = file_problem(file)
    if problem is not None:
        raise RecipientsProblem(FILE_FIELD, problem)
    url = str(file.get("url_private_download") or file.get("url_private") or "")
    if not _is_slack(url, interaction.settings.api_url):
        raise RecipientsProblem(FILE_FIELD, "Slack did not say where to download it from. Upload it again.")
    return text_of(await _download(interaction, url), FILE_FIELD)


async def _download(interaction: Interaction[Any], url: str) -> bytes:
    token = interaction.client.token
    if not token:  # never "Bearer None": Slack would answer with its sign-in page
        raise RecipientsProblem(FILE_FIELD, "I have no token for this workspace to fetch it with.")
    headers = {"Authorization": f"Bearer {token}"}
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_SECONDS)
    try:
        async with (
            _session(interaction.services.session) as http,
            http.get(url, headers=headers, timeout=timeout) as response,
        ):
            if response.status != 200:
                raise RecipientsProblem(FILE_FIELD, f"Slack answered {response.status} when I fetched it.")
            if response.content_type == "text/html":
                raise RecipientsProblem(
                    FILE_FIELD,
                    "Slack sent its sign-in page instead of the file: the app may lack the files:read "
                    "permission. Ask whoever installed it to reinstall it.",
                )
            return await _bounded(response)
    except (aiohttp.ClientError, TimeoutError) as failure:
        raise RecipientsProblem(FILE_FIELD, "I couldn't download it. Please try again.") from failure


async def _bounded(response: aiohttp.ClientResponse) -> bytes:
    """The body, refused as soon as it passes the bound (whatever files.info said of its size)."""
    data = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        data += chunk
        if len(data) > MAX_FILE_BYTES:
            raise RecipientsProblem(FILE_FIELD, f"the file is larger than {MAX_FILE_MB} MB.")
    return bytes(data)


@contextlib.asynccontextmanager
async def _session(shared: aiohttp.ClientSession | None) -> AsyncIterator[aiohttp.ClientSession]:
    """The app's kept-alive session when there is one, else one for this download."""
    if shared is not None:
        yield shared
        return
    async with aiohttp.ClientSession() as own:
        yield own


def _is_slack(url: str, api_url: str) -> bool:
    """Whether `url` is Slack's (https on slack.com), or on the same host as the Web API."""
    parts, api = urlsplit(url), urlsplit(api_url)
    if not parts.hostname:
        return False
    if parts.scheme == "https" and (parts.hostname == "slack.com" or parts.hostname.endswith(".slack.com")):
        return True
    return (parts.scheme, parts.netloc) == (api.scheme, api.netloc)
