"""Delivering spooled batches to the server over HTTP (httpx)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import orjson

from pipetrail.model.identity import user_agent

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
#: Answers that will never change for the same batches: they are set aside.
REFUSED = frozenset({400, 404, 409, 413, 422})


class Unreachable(Exception):
    """The server did not take the batches now (down, slow, overloaded, or the token is
    not accepted yet): try again later."""


class Refused(Exception):
    """The server refused the batches as they are: retrying cannot help."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class AgentClient:
    def __init__(self, url: str, token: str, *, read_timeout: float = READ_TIMEOUT) -> None:
        self.url = url.rstrip("/") + "/"
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": user_agent("agent"),
                     "Content-Type": "application/json"},
            timeout=httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT))

    def close(self) -> None:
        self._http.close()

    def post_batches(self, run_id: str, job_name: str, batches: Sequence[bytes]) -> None:
        """Deliver batches (each the JSON of one batch); raise Unreachable or Refused."""
        body = (b'{"jobName":' + orjson.dumps(job_name) + b',"batches":['
                + b",".join(batches) + b"]}")
        try:
            answer = self._http.post(f"api/v1/runs/{run_id}/records", content=body)
        except httpx.HTTPError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from None
        if answer.is_success:
            return
        message = _message(answer)
        if answer.status_code in REFUSED:
            raise Refused(answer.status_code, message)
        raise Unreachable(f"HTTP {answer.status_code}: {message}")


def _message(answer: httpx.Response) -> str:
    try:
        data = answer.json()
    except ValueError:
        return answer.text[:500]
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return f"{data.get('code')}: {data['message']}"
    return answer.text[:500]
