"""A small browser for the stage: cookies, CSRF, forms, files; through nginx or one node.

Through nginx it speaks TLS to 127.0.0.1 and trusts only the stage's own certificate.
Straight to a web node it sends what nginx would (Host, X-Forwarded-Proto,
X-Forwarded-For), so a test can land the next request on the node it chooses.
"""

from __future__ import annotations

import http.client
import re
import secrets
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.stage.cluster import HOST, Stage

# What nginx would put in X-Forwarded-For for a visitor; requests straight to a node carry
# it. A documentation address (RFC 5737): it names a visitor, no packet goes there.
VISITOR = "192.0.2.7"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


@dataclass
class Browser:
    stage: Stage
    node: str | None = None  # None: through nginx
    visitor: str = VISITOR
    cookies: dict[str, str] = field(default_factory=dict)
    _conn: http.client.HTTPConnection | None = None

    def via(self, node: str | None) -> Browser:
        """The same visitor (cookies) sending the next requests to another node."""
        self.close()
        self.node = node
        return self

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.node is None:
                self._conn = self.stage.connection(timeout=60)
            else:
                self._conn = self.stage.node_connection(self.node, timeout=60)
        return self._conn

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        all_headers = {
            "Host": HOST if self.node else f"{HOST}:{self.stage.https_port}",
            "Accept-Language": "en",
            **(headers or {}),
        }
        if self.node:
            all_headers["X-Forwarded-Proto"] = "https"
            all_headers["X-Forwarded-For"] = self.visitor
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=all_headers)
                raw = conn.getresponse()
                data = raw.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server closed meanwhile: once more, fresh.
                self.close()
                if attempt == 2:
                    raise
        response_headers: dict[str, str] = {}
        for key, value in raw.getheaders():
            if key.lower() == "set-cookie":
                cookie: SimpleCookie = SimpleCookie()
                cookie.load(value)
                for name, morsel in cookie.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.coded_value
            else:
                response_headers[key.lower()] = value
        return Response(raw.status, response_headers, data)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(
        self,
        path: str,
        fields: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Response:
        """A form post with the CSRF token from the cookie, as the form would carry it."""
        fields = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **fields}
        headers = {"Origin": self.stage.origin, "Referer": self.stage.origin + path}
        if files:
            boundary = secrets.token_hex(16)
            parts: list[bytes] = []
            for name, value in fields.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode()
                )
            for name, (filename, content, content_type) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                    + content
                    + b"\r\n"
                )
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request("POST", path, body, headers)

    def follow(self, response: Response, limit: int = 5) -> Response:
        while response.status in (301, 302, 303) and limit:
            location = urlsplit(response.location)
            path = location.path + (f"?{location.query}" if location.query else "")
            response = self.get(path)
            limit -= 1
        return response

    def login(self, username: str, password: str, totp_key: str | None = None) -> Response:
        """Sign in (and pass the second factor with the device key, for office bearers)."""
        self.get("/account/login/")
        response = self.post(
            "/account/login/", {"username": username, "password": password, "next": "/account/"}
        )
        if response.status != 302:
            return response
        if "two-factor" in response.location and totp_key:
            from django_otp.oath import totp

            key = _b32(totp_key)
            for _attempt in (1, 2):
                response = self.post(
                    "/account/two-factor/",
                    {"token": f"{totp(key):06d}", "next": "/account/"},
                )
                if response.status == 302:
                    break
                # A code is good once (the device refuses a replay): a second sign-in in
                # the same 30 s step waits for the next code, as a person would.
                time.sleep(30.5 - time.time() % 30)
        return response


def _b32(key: str) -> bytes:
    import base64

    return base64.b32decode(key + "=" * (-len(key) % 8))


def csrf_field(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return match.group(1) if match else ""
