"""A publisher's web app that signs users in through Leerpoort by SAML 2.0 and shows what it
received. Python 3, PyPI's pysaml2 and the standard library's wsgiref.

    python app.py

Environment:
    IDP_METADATA_URL  Leerpoort's metadata (default http://127.0.0.1:8080/saml/metadata)
    IDP_METADATA_CERT Leerpoort's metadata-signing certificate (PEM file) to pin; optional,
                      but set it in production (docs/integrate-saml.md, section 1)
    PORT              where this app listens on 127.0.0.1 (default 8082)
    BASE_URL          this app's address as browsers see it (default http://127.0.0.1:PORT);
                      its entity ID is BASE_URL/saml/metadata
    SP_KEY, SP_CERT   this app's key pair (default sp.key and sp.crt, see README.md)

Routes: `/` (the "Inloggen via Leerpoort" button, or what the user's sign-in brought),
`/login` (an AuthnRequest over HTTP-Redirect), `/saml/acs` (the HTTP-POST answer),
`/saml/metadata` (this app's metadata, for the operator), `/logout` (here only) and every
other path is a "product page".
"""

import html
import os
import secrets
import sys
import time
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import make_server

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = int(os.environ.get("PORT", "8082"))
BASE_URL = os.environ.get("BASE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
IDP_METADATA_URL = os.environ.get("IDP_METADATA_URL", "http://127.0.0.1:8080/saml/metadata")
# Leerpoort's attribute names (eckId, instellingRef, role, ...), as the guide ships them.
ATTRIBUTE_MAPS = os.path.join(HERE, "..", "..", "docs", "saml", "attributemaps")
# pysaml2 imports the attribute map; leave no bytecode next to it.
sys.dont_write_bytecode = True

SHOWN = [  # (attribute, label) in the order the result page shows them
    ("instellingRef", "school (instellingRef)"),
    ("nlEduPersonHomeOrganizationBranchId", "BRIN6"),
    ("role", "role"),
    ("eduPersonAffiliation", "eduPersonAffiliation"),
    ("loginContext", "loginContext"),
    ("groups", "groups"),
    ("groupNames", "groupNames"),
    ("niveau", "niveau"),
    ("eckId", "eckId"),
]


def sp_config():
    remote = {"url": IDP_METADATA_URL}
    if os.environ.get("IDP_METADATA_CERT"):
        remote["cert"] = os.environ["IDP_METADATA_CERT"]
    key, cert = os.environ.get("SP_KEY", "sp.key"), os.environ.get("SP_CERT", "sp.crt")
    conf = SPConfig()
    conf.load({
        "entityid": f"{BASE_URL}/saml/metadata",
        "key_file": key, "cert_file": cert,
        # The same key pair decrypts: Leerpoort then encrypts the assertions for this app.
        "encryption_keypairs": [{"key_file": key, "cert_file": cert}],
        "metadata": {"remote": [remote]},
        "attribute_map_dir": ATTRIBUTE_MAPS,
        "service": {"sp": {
            "name": "Voorbeelduitgever (SAML)",
            "endpoints": {
                "assertion_consumer_service": [(f"{BASE_URL}/saml/acs", BINDING_HTTP_POST)],
            },
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "authn_requests_signed": True,
            # Both the Response and the Assertion must be signed (docs/integrate-saml.md).
            "want_response_signed": True, "want_assertions_signed": True,
            # School shortcuts send unsolicited (IdP-initiated) responses.
            "allow_unsolicited": True,
            "signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256,
        }},
    })
    return conf


CLIENT = None  # Saml2Client, made at the first request; renewed hourly (fresh metadata)
MADE = 0.0
outstanding = {}  # AuthnRequest ID -> where to go afterwards; one use each
seen = {}  # assertion ID -> when it expires: an assertion is accepted once
sessions = {}  # cookie -> what the sign-in brought; a real app keeps them in its own store


def saml_client():
    global CLIENT, MADE
    if CLIENT is None or time.time() - MADE > 3600:
        CLIENT, MADE = Saml2Client(config=sp_config()), time.time()
    return CLIENT


def own_path(relay_state):
    """Where a RelayState leads: a path, or a URL of this app (a deep link); else home."""
    if relay_state.startswith("/") and not relay_state.startswith("//"):
        return relay_state
    url = urlsplit(relay_state)
    if f"{url.scheme}://{url.netloc}" == BASE_URL:
        return (url.path or "/") + (f"?{url.query}" if url.query else "")
    return "/"


def login():
    """A signed AuthnRequest over HTTP-Redirect; RelayState brings the user back to /."""
    request_id, info = saml_client().prepare_for_authenticate(
        relay_state="/", binding=BINDING_HTTP_REDIRECT, sigalg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
    )
    outstanding[request_id] = "/"
    return "303 See Other", [("Location", dict(info["headers"])["Location"])], b""


def acs(form):
    """The posted Response: pysaml2 checks both signatures, decrypts the assertion, checks
    audience, Recipient, Destination and times, and maps the attributes."""
    response = saml_client().parse_authn_request_response(
        form["SAMLResponse"], BINDING_HTTP_POST, outstanding=outstanding)
    if response is None:
        raise ValueError("the response was not accepted")
    # An answer to a request must answer one of ours, once; an unsolicited one has no
    # InResponseTo (pysaml2 lets both through with allow_unsolicited).
    if response.in_response_to and outstanding.pop(response.in_response_to, None) is None:
        raise ValueError("an answer to a request this app did not send, or sent twice")
    now = time.time()
    for key in [k for k, until in seen.items() if until < now]:
        del seen[key]
    if response.assertion.id in seen:
        raise ValueError("this assertion was used before")
    seen[response.assertion.id] = now + 600
    relay_state = form.get("RelayState", "")
    cookie = secrets.token_urlsafe(24)
    sessions[cookie] = {
        "name_id": response.name_id.text,
        "attributes": response.ava,
        "flow": "SP-initiated" if response.in_response_to else "IdP-initiated (unsolicited)",
        "relay_state": relay_state,
    }
    headers = [
        ("Location", own_path(relay_state)),
        ("Set-Cookie", f"voorbeeld_sessie={cookie}; Path=/; HttpOnly; SameSite=Lax"),
    ]
    return "303 See Other", headers, b""


def home(path, user):
    if user is None:
        button = '<p><a class="button" href="/login">Inloggen via Leerpoort</a></p>'
        return page("Voorbeelduitgever", button)
    rows = [("name_id", "NameID (pairwise pseudonym)", user["name_id"])]
    rows += [(a, label, ", ".join(user["attributes"].get(a, ["(not sent)"]))) for a, label in SHOWN]
    rows += [
        ("flow", "sign-in", user["flow"]),
        ("relay_state", "RelayState (deep link)", user["relay_state"]),
        ("product", "this page", path),
    ]
    table = "\n".join(
        f'<tr><th scope="row">{label}</th><td id="{id_}">{html.escape(value)}</td></tr>'
        for id_, label, value in rows
    )
    links = '<p><a href="/">Home</a> · <a href="/logout">Uitloggen</a></p>'
    return page("Ingelogd via Leerpoort", f"<table>{table}</table>{links}")


def page(title, body, status="200 OK"):
    doc = (f'<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>{title}</title></head>'
           f"<body><main><h1>{title}</h1>{body}</main></body></html>")
    return status, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], doc.encode()


def app(environ, start_response):
    path, method = environ.get("PATH_INFO", "/"), environ["REQUEST_METHOD"]
    cookie = SimpleCookie(environ.get("HTTP_COOKIE", "")).get("voorbeeld_sessie")
    user = sessions.get(cookie.value) if cookie else None
    try:
        if path == "/saml/metadata":
            xml = create_metadata_string(None, config=saml_client().config, valid=24)
            status, headers, body = "200 OK", [("Content-Type", "application/samlmetadata+xml")], xml
        elif path == "/login":
            status, headers, body = login()
        elif path == "/saml/acs" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
            status, headers, body = acs(form)
        elif path == "/logout":
            sessions.pop(cookie.value if cookie else None, None)
            status, headers, body = "303 See Other", [("Location", "/")], b""
        elif path == "/favicon.ico":
            status, headers, body = "404 Not Found", [], b""
        else:
            status, headers, body = home(path, user)
    except Exception as e:  # noqa: BLE001 - shown to the developer who runs the example
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        why = f"<p>{html.escape(str(e))}</p>"
        status, headers, body = page("Inloggen mislukt", why, "400 Bad Request")
    start_response(status, headers)
    return [body if isinstance(body, bytes) else body.encode()]


if __name__ == "__main__":
    with make_server("127.0.0.1", PORT, app) as server:
        print(f"Listening on {BASE_URL}, entity ID {BASE_URL}/saml/metadata", flush=True)
        server.serve_forever()
