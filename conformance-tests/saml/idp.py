"""A SAML identity provider nobody in this project wrote: PyPI's pysaml2 (saml2.server.Server),
standing in for a school's network environment.

Used by `conformance-tests/tests/it/saml_upstream.rs`. Two modes:

    python idp.py metadata DIR     write a key pair and the IdP's metadata (DIR/idp.xml)
    python idp.py run DIR          act as the IdP; one JSON line out per command line in

Environment: IDP_BASE (the IdP's base URL, e.g. http://127.0.0.1:9998), SP_METADATA_URL
(only for `run`: Leerpoort's SP metadata). Commands of `run`:

    sso URL {"las_key": ..., "affiliation": ...}
        -> {"action": ..., "fields": {...}, "request_id": ..., "issuer": ...,
            "signature_verified": ...}
        the browser arrived at URL (HTTP-Redirect); pysaml2 reads the AuthnRequest, checks
        its query signature against Leerpoort's metadata, and answers with a signed Response
        holding a signed assertion, to be POSTed to the ACS the metadata names.
    logout -> {"url": ...}
        IdP-initiated Single Logout of the last user: a signed LogoutRequest over
        HTTP-Redirect to the SingleLogoutService in Leerpoort's metadata.
    slo-response URL -> {"status_ok": ..., "signature_verified": ..., "in_response_to": ...}
        Leerpoort's LogoutResponse, as the browser brings it back.

Any failure is printed as {"error": ...} and the process goes on.
"""

import datetime
import json
import os
import re
import sys
import traceback
from urllib.parse import parse_qs, urlparse

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.saml import AUTHN_PASSWORD_PROTECTED
from saml2.server import Server
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

XMLSEC = os.environ.get("XMLSEC_BINARY", "/usr/bin/xmlsec1")


def key_pair(directory):
    key_file = os.path.join(directory, "idp.key")
    cert_file = os.path.join(directory, "idp.crt")
    if os.path.exists(key_file):
        return key_file, cert_file
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pysaml2 idp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    with open(key_file, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def config(directory, sp_metadata=None):
    base = os.environ["IDP_BASE"]
    key_file, cert_file = key_pair(directory)
    conf = {
        "entityid": f"{base}/idp",
        "xmlsec_binary": XMLSEC,
        "key_file": key_file,
        "cert_file": cert_file,
        "accepted_time_diff": 5,
        "service": {
            "idp": {
                "endpoints": {
                    "single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_REDIRECT)],
                    "single_logout_service": [(f"{base}/slo", BINDING_HTTP_REDIRECT)],
                },
                "want_authn_requests_signed": True,
                "sign_response": True,
                "sign_assertion": True,
                "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT],
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "policy": {
                    "default": {
                        "lifetime": {"minutes": 5},
                        "attribute_restrictions": None,
                        "name_form": NAME_FORMAT_BASIC,
                    }
                },
            }
        },
    }
    if sp_metadata is not None:
        conf["metadata"] = {"inline": [sp_metadata]}
    c = IdPConfig()
    c.load(conf)
    return c


def write_metadata(directory):
    c = config(directory)
    xml = create_metadata_string(None, config=c, valid=24)
    if isinstance(xml, bytes):
        xml = xml.decode()
    with open(os.path.join(directory, "idp.xml"), "w") as f:
        f.write(xml)
    print(json.dumps({"entity_id": c.entityid, "metadata": os.path.join(directory, "idp.xml")}))


def form_fields(html):
    fields = {}
    for name in ("SAMLResponse", "RelayState"):
        m = re.search(rf'name="{name}" value="([^"]*)"', html)
        if m:
            fields[name] = m.group(1)
    action = re.search(r'action="([^"]*)"', html).group(1)
    return action, fields


def run(directory):
    sp_metadata = requests.get(os.environ["SP_METADATA_URL"], timeout=10).text
    server = Server(config=config(directory, sp_metadata))
    sp_entity = list(server.metadata.service_providers())[0]
    sp_certs = server.metadata.certs(sp_entity, "spsso", use="signing")
    last_name_id = None
    logout_id = None

    def signature_ok(query):
        return any(
            verify_redirect_signature(
                query, server.sec.sec_backend, cert=c[1] if isinstance(c, tuple) else c
            )
            for c in sp_certs
        )

    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        try:
            if command == "sso":
                url, _, user = arg.partition(" ")
                user = json.loads(user)
                query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
                verified = signature_ok(query)
                if not verified:
                    raise ValueError("the AuthnRequest's query signature does not verify")
                req = server.parse_authn_request(
                    query["SAMLRequest"],
                    BINDING_HTTP_REDIRECT,
                    relay_state=query.get("RelayState"),
                    sigalg=query["SigAlg"],
                    signature=query["Signature"],
                )
                resp_args = server.response_args(req.message, [BINDING_HTTP_POST])
                resp_args.pop("binding", None)
                identity = {
                    "lasKey": [user["las_key"]],
                    "eduPersonAffiliation": [user["affiliation"]],
                }
                last_name_id = NameID(
                    format=NAMEID_FORMAT_PERSISTENT, text=f"moo-{user['las_key']}"
                )
                response = server.create_authn_response(
                    identity,
                    userid=user["las_key"],
                    name_id=last_name_id,
                    authn={"class_ref": AUTHN_PASSWORD_PROTECTED},
                    sign_response=True,
                    sign_assertion=True,
                    sign_alg=SIG_RSA_SHA256,
                    digest_alg=DIGEST_SHA256,
                    **resp_args,
                )
                info = server.apply_binding(
                    BINDING_HTTP_POST,
                    str(response),
                    resp_args["destination"],
                    query.get("RelayState"),
                    response=True,
                )
                action, fields = form_fields(info["data"])
                out = {
                    "action": action,
                    "fields": fields,
                    "request_id": req.message.id,
                    "issuer": req.message.issuer.text,
                    "is_passive": req.message.is_passive,
                    "signature_verified": verified,
                }
            elif command == "logout":
                slo = server.metadata.single_logout_service(
                    sp_entity, BINDING_HTTP_REDIRECT, "spsso"
                )[0]["location"]
                logout_id, request = server.create_logout_request(
                    slo,
                    sp_entity,
                    name_id=last_name_id,
                    sign=False,
                )
                info = server.apply_binding(
                    BINDING_HTTP_REDIRECT,
                    str(request),
                    slo,
                    "terug",
                    sign=True,
                    sigalg=SIG_RSA_SHA256,
                )
                out = {"url": dict(info["headers"])["Location"], "request_id": logout_id}
            elif command == "slo-response":
                query = {k: v[0] for k, v in parse_qs(urlparse(arg).query).items()}
                verified = signature_ok(query)
                response = server.parse_logout_request_response(
                    query["SAMLResponse"], BINDING_HTTP_REDIRECT
                )
                out = {
                    "status_ok": bool(response and response.status_ok()),
                    "signature_verified": verified,
                    "in_response_to": response.in_response_to if response else None,
                    "relay_state": query.get("RelayState"),
                }
            else:
                out = {"error": f"unknown command {command}"}
        except Exception as e:  # noqa: BLE001 - every failure goes back to the test
            out = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
        print(json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    mode, directory = sys.argv[1], sys.argv[2]
    if mode == "metadata":
        write_metadata(directory)
    else:
        run(directory)
