"""A stand-in for Cognito's hosted UI, for the page's sign-in test
(tests/tests/page_signin.rs). Python standard library only.

  /oauth2/authorize  GET: checks client_id, redirect_uri, response_type=code,
                     scope, state and an S256 code_challenge, then shows a
                     sign-in form; its POST sends the browser back to
                     redirect_uri with ?code=&state=.
  /oauth2/token      POST (form): checks grant_type, client_id, code (once),
                     redirect_uri and that SHA-256 of code_verifier is the
                     stored challenge; answers an id token. CORS for the
                     page's origin only.
  /logout            GET: checks client_id and logout_uri (the one sign-out
                     URL allowed), ends the provider's session and sends the
                     browser to logout_uri.

Like the hosted UI, signing in leaves a provider session (a cookie); each
authorize request logs whether it had one, so the test sees sign-out end it.

The id token is well formed (header.payload.signature, base64url) but not
signed: the test's API runs with auth = "none" and checks nothing; the test
checks that the page sends it.

Every request and what was decided is appended to --log as one JSON line,
so a failing test can print it.
"""

import argparse
import base64
import hashlib
import html
import json
import secrets
import string
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

VERIFIER_CHARS = set(string.ascii_letters + string.digits + "-._~")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--redirect-uri", required=True)
    parser.add_argument("--page-origin", required=True)
    parser.add_argument("--logout-uri", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument(
        "--lifetimes",
        default="3600",
        help="comma-separated id token lifetimes in seconds, one per token issued (the last repeats)",
    )
    args = parser.parse_args()
    lifetimes = [int(s) for s in args.lifetimes.split(",")]
    issuer = f"http://127.0.0.1:{args.port}"
    lock = threading.Lock()
    # code -> what the authorize request bound it to
    codes: dict[str, dict] = {}
    # transaction id of a shown form -> the authorize request's parameters
    pending: dict[str, dict] = {}
    # the provider's own sessions (cookie values)
    sessions: set[str] = set()
    issued = []

    def log(entry: dict) -> None:
        with lock, open(args.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def send(self, status, body: bytes, content_type, headers=()):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def refuse_page(self, event, why):
            log({"event": event, "ok": False, "why": why, "path": self.path})
            self.send(400, f"<p>{html.escape(why)}</p>".encode(), "text/html; charset=utf-8")

        def cors(self):
            return [
                ("Access-Control-Allow-Origin", args.page_origin),
                ("Access-Control-Allow-Methods", "POST"),
                ("Access-Control-Allow-Headers", "content-type"),
                ("Vary", "Origin"),
            ]

        def token_error(self, error, why):
            log({"event": "token", "ok": False, "error": error, "why": why,
                 "origin": self.headers.get("Origin")})
            body = json.dumps({"error": error, "error_description": why}).encode()
            self.send(400, body, "application/json", self.cors())

        def do_OPTIONS(self):
            log({"event": "preflight", "path": self.path, "origin": self.headers.get("Origin")})
            self.send(204, b"", "text/plain", self.cors())

        def session(self):
            cookies = (self.headers.get("Cookie") or "").split(";")
            values = [c.strip().split("=", 1)[1] for c in cookies if c.strip().startswith("fake_session=")]
            with lock:
                return next((v for v in values if v in sessions), None)

        def do_GET(self):
            url = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            if url.path == "/logout":
                return self.logout(q)
            if url.path != "/oauth2/authorize":
                return self.refuse_page("get", f"no such page {url.path}")
            checks = [
                (q.get("response_type") == "code", "response_type must be code"),
                (q.get("client_id") == args.client_id, "unknown client_id"),
                (q.get("redirect_uri") == args.redirect_uri, "redirect_uri is not the registered callback"),
                ("openid" in q.get("scope", "").split(" "), "scope lacks openid"),
                (bool(q.get("state")), "no state"),
                (q.get("code_challenge_method") == "S256", "code_challenge_method must be S256"),
                (len(q.get("code_challenge", "")) == 43, "code_challenge is not a SHA-256 in base64url"),
                ("code_verifier" not in q, "the verifier must not be in the authorize URL"),
            ]
            for ok, why in checks:
                if not ok:
                    return self.refuse_page("authorize", why)
            txn = secrets.token_urlsafe(12)
            with lock:
                pending[txn] = q
            log({"event": "authorize", "ok": True, "query": q, "session": self.session() is not None})
            form = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Fake sign-in</title></head>
<body style="font-family:sans-serif;margin:2em"><h1>Fake sign-in provider</h1>
<p>Signing in to <code>{html.escape(args.client_id)}</code> as <b>{html.escape(args.email)}</b>.</p>
<form method="post" action="/login"><input type="hidden" name="txn" value="{txn}">
<button type="submit" id="approve">Sign in</button></form></body></html>"""
            self.send(200, form.encode(), "text/html; charset=utf-8")

        def logout(self, q):
            if q.get("client_id") != args.client_id:
                return self.refuse_page("logout", "unknown client_id")
            if q.get("logout_uri") != args.logout_uri:
                return self.refuse_page("logout", "logout_uri is not the allowed sign-out URL")
            had = self.session()
            with lock:
                sessions.discard(had)
            log({"event": "logout", "ok": True, "query": q, "hadSession": had is not None})
            self.send_response(302)
            self.send_header("Set-Cookie", "fake_session=; Path=/; Max-Age=0")
            self.send_header("Location", args.logout_uri)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def read_form(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}

        def do_POST(self):
            path = urlsplit(self.path).path
            if path == "/login":
                form = self.read_form()
                with lock:
                    q = pending.pop(form.get("txn", ""), None)
                if q is None:
                    return self.refuse_page("login", "unknown or used transaction")
                code = secrets.token_urlsafe(24)
                with lock:
                    codes[code] = q
                location = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
                log({"event": "login", "ok": True, "redirect": location})
                cookie = secrets.token_urlsafe(16)
                with lock:
                    sessions.add(cookie)
                self.send_response(302)
                self.send_header("Set-Cookie", f"fake_session={cookie}; Path=/; HttpOnly; SameSite=Lax")
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path != "/oauth2/token":
                return self.refuse_page("post", f"no such endpoint {path}")
            form = self.read_form()
            if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                return self.token_error("invalid_request", "not a form body")
            if form.get("grant_type") != "authorization_code":
                return self.token_error("unsupported_grant_type", "grant_type must be authorization_code")
            if form.get("client_id") != args.client_id:
                return self.token_error("invalid_client", "unknown client_id")
            with lock:
                bound = codes.pop(form.get("code", ""), None)
            if bound is None:
                return self.token_error("invalid_grant", "unknown or used code")
            if form.get("redirect_uri") != bound["redirect_uri"]:
                return self.token_error("invalid_grant", "redirect_uri differs from the authorize request")
            verifier = form.get("code_verifier", "")
            if not (43 <= len(verifier) <= 128 and set(verifier) <= VERIFIER_CHARS):
                return self.token_error("invalid_grant", "code_verifier is not 43-128 unreserved characters")
            if b64url(hashlib.sha256(verifier.encode()).digest()) != bound["code_challenge"]:
                return self.token_error("invalid_grant", "code_verifier does not match the code_challenge")
            now = int(time.time())
            with lock:
                lifetime = lifetimes[min(len(issued), len(lifetimes) - 1)]
                claims = {
                    "sub": "fake-user-0001",
                    "email": args.email,
                    "email_verified": True,
                    "cognito:username": "fake-user",
                    "aud": args.client_id,
                    "iss": issuer,
                    "token_use": "id",
                    "auth_time": now,
                    "iat": now,
                    "exp": now + lifetime,
                }
                header = {"alg": "RS256", "kid": "fake-key", "typ": "JWT"}
                id_token = ".".join([
                    b64url(json.dumps(header).encode()),
                    b64url(json.dumps(claims).encode()),
                    b64url(b"fake-signature-not-verified"),
                ])
                issued.append(id_token)
            log({"event": "token", "ok": True, "origin": self.headers.get("Origin"),
                 "pkce": "verified", "id_token": id_token, "lifetime": lifetime})
            body = json.dumps({
                "id_token": id_token,
                "access_token": "fake-access-" + secrets.token_urlsafe(8),
                "refresh_token": "fake-refresh-" + secrets.token_urlsafe(8),
                "expires_in": lifetime,
                "token_type": "Bearer",
            }).encode()
            self.send(200, body, "application/json;charset=UTF-8", self.cors())

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"fake OIDC provider on {issuer}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
