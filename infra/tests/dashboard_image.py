"""The dashboard image of infra/dashboard/Dockerfile, as far as it can be had without Docker.

infra/dashboard/stage.sh fills the image's build context; the Dockerfile's COPY lines say where
the image puts each file of that context, its ENV lines what every container starts with, its
USER whom it runs as and its CMD what it runs. Read from the staged Dockerfile (stage.sh copies
it beside the files), they give the same files, environment, user and command on this machine,
with the image's paths mapped onto the staged folder: a change to the Dockerfile changes what
the tests run. `COPY --from=<image>` lines bring files from another image (the Lambda Web
Adapter), not from the context; that extension is started by Lambda, never by the server, and
is left out.

Also a small HTTP client (http.client, no third-party package) that keeps its own session
cookie, because the cookie the stack asks for is `Secure` and a standard cookie jar does not
send a Secure cookie over the plain HTTP these tests speak.
"""

import http.client
import http.cookies
import json
import os
import shlex
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[2]
STAGE_SCRIPT = REPO / "infra/dashboard/stage.sh"


@dataclass
class Image:
    """What the Dockerfile says about the image: (context source, image path) per COPY from the
    context, the ENV settings in order, the USER and the CMD."""

    copies: list = field(default_factory=list)
    env: dict = field(default_factory=dict)
    user: str = "0"
    cmd: list = field(default_factory=list)


def logical_lines(text):
    """Dockerfile lines with their `\\` continuations joined and comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current.strip():
        lines.append(current)
    return lines


def read_dockerfile(path):
    image = Image()
    for line in logical_lines(Path(path).read_text()):
        instruction, _, rest = line.partition(" ")
        instruction, rest = instruction.upper(), rest.strip()
        if instruction == "COPY":
            words = shlex.split(rest)
            flags = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            if any(f.startswith("--from=") for f in flags):
                continue  # from another image, not from the build context
            if len(paths) != 2:
                raise ValueError(f"COPY with {len(paths) - 1} sources is not understood here: {line}")
            image.copies.append((paths[0], paths[1]))
        elif instruction == "ENV":
            words = shlex.split(rest)
            if "=" not in words[0]:
                words = [f"{words[0]}={' '.join(words[1:])}"]  # the legacy `ENV key value`
            for word in words:
                key, _, value = word.partition("=")
                if "$" in value:
                    raise ValueError(f"ENV {key} refers to another variable, not understood here: {line}")
                image.env[key] = value
        elif instruction == "USER":
            image.user = rest
        elif instruction == "CMD":
            image.cmd = json.loads(rest) if rest.startswith("[") else ["/bin/sh", "-c", rest]
    return image


def stage(context, server, site):
    """Runs stage.sh into `context` with the given server and site; the staged Dockerfile."""
    done = subprocess.run(
        ["bash", str(STAGE_SCRIPT)],
        env=dict(os.environ, GATEHOUSE_SERVER_BIN=str(server), GATEHOUSE_SITE_ROOT=str(site),
                 GATEHOUSE_STAGE_DIR=str(context)),
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"stage.sh failed:\n{done.stdout}{done.stderr}")
    return read_dockerfile(Path(context) / "Dockerfile")


class Layout:
    """The image's file system on this machine: each COPY destination is its file or folder in
    the staged context, and /tmp is a folder of the container's own (on Lambda the one writable
    place, empty at each cold start)."""

    def __init__(self, image, context, container_tmp):
        self.places = [(PurePosixPath(dest), Path(context) / src) for src, dest in image.copies]
        self.places.append((PurePosixPath("/tmp"), Path(container_tmp)))

    def host_path(self, image_path):
        path = PurePosixPath(image_path)
        for inside, outside in self.places:
            if path == inside or inside in path.parents:
                return outside / path.relative_to(inside)
        return None

    def map_value(self, value):
        """An environment value naming a path in the image, as the path here; others as they are."""
        if not value.startswith("/"):
            return value
        mapped = self.host_path(value)
        return str(mapped) if mapped is not None else value


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # [(name, value)], names lower case, repeats kept
        self.body = body

    def header(self, name):
        values = [v for n, v in self.headers if n == name]
        return values[0] if values else None

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


class Browser:
    """One visitor: a session cookie of its own, requests as a same-origin browser page sends
    them (Origin and Sec-Fetch-Site on a POST), and the address the function URL's front end
    appends to X-Forwarded-For, since the stack trusts one proxy."""

    def __init__(self, base, forwarded_for):
        self.base = urllib.parse.urlsplit(base)
        self.forwarded_for = forwarded_for
        self.cookies = {}
        self.set_cookies = []  # every Set-Cookie header received, for its attributes

    def request(self, method, path, form=None, json_body=None, headers=None):
        sent = {"X-Forwarded-For": self.forwarded_for}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        if method not in ("GET", "HEAD"):
            sent["Origin"] = f"{self.base.scheme}://{self.base.netloc}"
            sent["Sec-Fetch-Site"] = "same-origin"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers or {})
        connection = http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            response = Response(answer.status, [(n.lower(), v) for n, v in answer.getheaders()], answer.read())
        finally:
            connection.close()
        for name, value in response.headers:
            if name == "set-cookie":
                self.set_cookies.append(value)
                cookie = http.cookies.SimpleCookie()
                cookie.load(value)
                for key, morsel in cookie.items():
                    if morsel["max-age"] == "0" or morsel.value == "":
                        self.cookies.pop(key, None)
                    else:
                        self.cookies[key] = morsel.value
        return response

    def call(self, function, **fields):
        """A server function (`POST /api/<name>`) as an API client calls it: form fields in,
        JSON out."""
        return self.request("POST", f"/api/{function}", form=fields, headers={"Accept": "application/json"})


class Server:
    """The staged CMD run as the image's USER with a container's environment; its log (JSON
    lines, GATEHOUSE_LOG_FORMAT=json) goes to `log_path`."""

    def __init__(self, argv, env, user, log_path):
        self.log_path = Path(log_path)
        uid, _, gid = user.partition(":")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                user=int(uid), group=int(gid or uid), extra_groups=[], cwd="/",
            )
        self.base = self._wait_for_address()

    def log_lines(self):
        return self.log_path.read_text(errors="replace").splitlines()

    def _wait_for_address(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_lines():
                try:
                    message = json.loads(line).get("message", "")  # flattened events
                except json.JSONDecodeError:
                    continue
                if message.startswith("listening on http://"):
                    return message.split(" ", 2)[2]
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not start listening:\n" + "\n".join(self.log_lines()[-40:]))

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
