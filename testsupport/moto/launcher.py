"""Runs moto (an AWS-API server) on loopback for Gatehouse's tests.

Usage: python launcher.py   (with the venv's python; scripts/bootstrap.sh installs moto 5.2.5
into /opt/gatehouse/moto). Binds 127.0.0.1 on a free port, prints `PORT <n>` on stdout, then
serves until stdin closes (the test process went away) or SIGTERM/SIGINT arrives.

moto's configuration, set before the server accepts anything:
  {"stepfunctions": {"execute_state_machine": true}, "lambda": {"use_docker": false}}

Extensions. This file is the one place where the tests' moto differs from moto 5.2.5; each
change exists because a test needs AWS behaviour that moto lacks, and stays minimal:

1. SECRET_HASH on USER_PASSWORD_AUTH and on the NEW_PASSWORD_REQUIRED answer. moto 5.2.5
   checks SECRET_HASH only for USER_SRP_AUTH, REFRESH_TOKEN(_AUTH) and the MFA answers
   (cognitoidp/models.py, initiate_auth / respond_to_auth_challenge); for USER_PASSWORD_AUTH
   and NEW_PASSWORD_REQUIRED it ignores it, so a provider that forgot it, or computed it
   wrongly, would pass. AWS refuses both with NotAuthorizedException when the app client has
   a secret and the hash is missing or wrong; so does this moto now.

2. RevokeToken, which moto 5.2.5 does not implement. Gatehouse's sign-out revokes the
   session's refresh token (ending that sign-in only, as AWS does); this revokes the refresh
   token and the access tokens issued from it (same origin_jti), and checks the client
   secret when the app client has one.

Checked and not extended (moto 5.2.5 already behaves as AWS does for what the tests use):
- GetUser refuses a disabled user (NotAuthorizedException) and a deleted one
  (UserNotFoundException); InitiateAuth refuses a disabled user (NotAuthorizedException).
- GlobalSignOut revokes the user's refresh tokens and access tokens.
Known gaps left alone (no test depends on them): a refresh
token of a disabled user still refreshes; unknown challenge sessions answer
ResourceNotFoundException where AWS answers NotAuthorizedException.
"""

import base64
import json
import logging
import os
import signal
import threading

from moto.cognitoidp.exceptions import NotAuthorizedError
from moto.cognitoidp.models import CognitoIdpBackend
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.responses import EmptyResult
from moto.cognitoidp.utils import check_secret_hash
from moto.moto_api._internal import moto_api_backend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


# Extension 1: SECRET_HASH where AWS requires it and moto 5.2.5 does not check it.
def _require_secret_hash(backend, client_id, username, secret_hash):
    for pool in backend.user_pools.values():
        client = pool.clients.get(client_id)
        if client is not None:
            if client.generate_secret and not check_secret_hash(
                client.secret, client.id, username or "", secret_hash
            ):
                raise NotAuthorizedError(
                    f"Unable to verify secret hash for client {client_id}"
                )
            return


_initiate_auth = CognitoIdpBackend.initiate_auth
_respond_to_auth_challenge = CognitoIdpBackend.respond_to_auth_challenge


def initiate_auth(self, client_id, auth_flow, auth_parameters):
    if auth_flow == "USER_PASSWORD_AUTH":
        _require_secret_hash(
            self,
            client_id,
            auth_parameters.get("USERNAME"),
            auth_parameters.get("SECRET_HASH"),
        )
    return _initiate_auth(self, client_id, auth_flow, auth_parameters)


def respond_to_auth_challenge(
    self, session, client_id, challenge_name, challenge_responses
):
    if challenge_name == "NEW_PASSWORD_REQUIRED":
        _require_secret_hash(
            self,
            client_id,
            challenge_responses.get("USERNAME"),
            challenge_responses.get("SECRET_HASH"),
        )
    return _respond_to_auth_challenge(
        self, session, client_id, challenge_name, challenge_responses
    )


CognitoIdpBackend.initiate_auth = initiate_auth
CognitoIdpBackend.respond_to_auth_challenge = respond_to_auth_challenge


# Extension 2: RevokeToken.
def _origin_jti(jwt):
    try:
        payload = jwt.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return json.loads(base64.urlsafe_b64decode(payload)).get("origin_jti")
    except (IndexError, ValueError):
        return None


def revoke_token(self):
    token = self._get_param("Token")
    client_id = self._get_param("ClientId")
    client_secret = self._get_param("ClientSecret")
    for pool in self.backend.user_pools.values():
        client = pool.clients.get(client_id)
        if client is None:
            continue
        if client.generate_secret and client_secret != client.secret:
            raise NotAuthorizedError("Unable to verify secret for client " + client_id)
        entry = pool.refresh_tokens.get(token)
        if entry:
            origin_jti = entry[2]
            pool.refresh_tokens[token] = None
            for access_token in list(pool.access_tokens):
                if _origin_jti(access_token) == origin_jti:
                    pool.access_tokens.pop(access_token)
        # AWS answers success for a token that is already revoked or unknown.
        return EmptyResult()
    raise NotAuthorizedError("Invalid client id " + str(client_id))


CognitoIdpResponse.revoke_token = revoke_token


def main():
    moto_api_backend.set_config(MOTO_CONFIG)
    # One line per request on stderr would bury a failing test's output; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler
    )
    stop = threading.Event()

    def on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        # End of file: the process that started us closed the pipe or exited. os.read, not
        # sys.stdin: a daemon thread blocked in a buffered read aborts interpreter shutdown.
        while os.read(0, 4096):
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_port}", flush=True)
    stop.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
