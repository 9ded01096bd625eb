"""A SAML service provider nobody in this project wrote: PyPI's pysaml2 (Saml2Client).

Used by `conformance-tests/tests/it/saml.rs`. Two modes:

    python sp.py metadata DIR     write a key pair and the SP's metadata (DIR/sp.xml)
    python sp.py run DIR          act as the SP; one JSON line out per command line in

Environment: SP_BASE (the SP's base URL, e.g. http://127.0.0.1:9999), IDP_METADATA_URL
(only for `run`). Commands of `run`:

    login-redirect            -> {"url": ...}                  SP-initiated, HTTP-Redirect
    login-post                -> {"action": ..., "fields": {}}  SP-initiated, HTTP-POST
    acs {"SAMLResponse", "RelayState"}              -> what pysaml2 accepted
    acs-unsolicited {"SAMLResponse", "RelayState"}  -> the same, for an IdP-initiated response
    logout                    -> {"url": ...}                  SP-initiated Single Logout
    slo URL                   -> {"status_ok": ...}            the IdP's LogoutResponse
    slo-request URL           -> {"url": ..., "status_ok": ...} the IdP's LogoutRequest, answered

pysaml2 checks the signatures (Response and Assertion), the audience, InResponseTo against
the requests it sent, Destination and Recipient, and the time conditions; it decrypts the
assertion (its metadata has an encryption key). Any failure is
printed as {"error": ...} and the process goes on.
"""

import base64
import datetime
import json
import os
import re
import sys
import traceback
import zlib
from urllib.parse import parse_qs, urlparse

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

XMLSEC = os.environ.get("XMLSEC_BINARY", "/usr/bin/xmlsec1")


def key_pair(directory):
    key_file = os.path.join(directory, "sp.key")
    cert_file = os.path.join(directory, "sp.crt")
    if os.path.exists(key_file):
        return key_file, cert_file
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pysaml2 sp")])
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


def config(directory, idp_metadata=None):
    base = os.environ["SP_BASE"]
    key_file, cert_file = key_pair(directory)
    conf = {
        "entityid": f"{base}/sp",
        "xmlsec_binary": XMLSEC,
        "key_file": key_file,
        "cert_file": cert_file,
        "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}],
        "allow_unknown_attributes": True,
        "accepted_time_diff": 5,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(f"{base}/acs", BINDING_HTTP_POST)],
                    "single_logout_service": [(f"{base}/slo", BINDING_HTTP_REDIRECT)],
                },
                "authn_requests_signed": True,
                "logout_requests_signed": True,
                "want_response_signed": True,
                "want_assertions_signed": True,
                "want_assertions_or_response_signed": True,
                "allow_unsolicited": True,
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }
        },
    }
    if idp_metadata is not None:
        conf["metadata"] = {"inline": [idp_metadata]}
    c = SPConfig()
    c.load(conf)
    return c


def write_metadata(directory):
    c = config(directory)
    xml = create_metadata_string(None, config=c, valid=24)
    if isinstance(xml, bytes):
        xml = xml.decode()
    with open(os.path.join(directory, "sp.xml"), "w") as f:
        f.write(xml)
    print(json.dumps({"entity_id": c.entityid, "metadata": os.path.join(directory, "sp.xml")}))


def form_fields(html):
    fields = {}
    for name in ("SAMLRequest", "RelayState"):
        m = re.search(rf'name="{name}" value="([^"]*)"', html)
        if m:
            fields[name] = m.group(1)
    action = re.search(r'action="([^"]*)"', html).group(1)
    return action, fields


def location(info):
    return dict(info["headers"])["Location"]


def run(directory):
    idp_metadata = requests.get(os.environ["IDP_METADATA_URL"], timeout=10).text
    client = Saml2Client(config=config(directory, idp_metadata))
    idp_entity = list(client.metadata.identity_providers())[0]
    idp_certs = client.metadata.certs(idp_entity, "idpsso", use="signing")
    outstanding = {}
    name_id = None

    def accepted(payload, unsolicited):
        nonlocal name_id
        args = json.loads(payload)
        response = client.parse_authn_request_response(
            args["SAMLResponse"],
            BINDING_HTTP_POST,
            outstanding={} if unsolicited else outstanding,
        )
        if response is None:
            return {"error": "pysaml2 did not accept the response"}
        name_id = response.name_id
        authn = response.assertion.authn_statement[0]
        return {
            "issuer": response.issuer(),
            "in_response_to": response.in_response_to,
            "name_id": response.name_id.text,
            "name_id_format": response.name_id.format,
            "attributes": response.ava,
            "session_index": authn.session_index,
            "authn_context": authn.authn_context.authn_context_class_ref.text,
            "relay_state": args.get("RelayState"),
            "response_signed": response.response.signature is not None,
            "assertion_signed": response.assertion.signature is not None,
            "assertion_encrypted": "EncryptedAssertion" in base64.b64decode(args["SAMLResponse"]).decode(),
        }

    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        try:
            if command == "login-redirect":
                req_id, info = client.prepare_for_authenticate(
                    entityid=idp_entity,
                    relay_state="les-3",
                    binding=BINDING_HTTP_REDIRECT,
                    sigalg=SIG_RSA_SHA256,
                    digest_alg=DIGEST_SHA256,
                )
                outstanding[req_id] = "les-3"
                out = {"url": location(info), "request_id": req_id}
            elif command == "login-post":
                req_id, info = client.prepare_for_authenticate(
                    entityid=idp_entity,
                    relay_state="les-4",
                    binding=BINDING_HTTP_POST,
                    sign=True,
                    sigalg=SIG_RSA_SHA256,
                    digest_alg=DIGEST_SHA256,
                )
                outstanding[req_id] = "les-4"
                action, fields = form_fields(info["data"])
                out = {"action": action, "fields": fields, "request_id": req_id}
            elif command == "acs":
                out = accepted(arg, unsolicited=False)
            elif command == "acs-unsolicited":
                out = accepted(arg, unsolicited=True)
            elif command == "logout":
                result = client.global_logout(name_id, sign=True, sign_alg=SIG_RSA_SHA256)
                binding, info = result[idp_entity]
                out = {"url": location(info), "binding": binding}
            elif command == "slo":
                query = {k: v[0] for k, v in parse_qs(urlparse(arg).query).items()}
                verified = any(
                    verify_redirect_signature(query, client.sec.sec_backend, cert=c[1] if isinstance(c, tuple) else c)
                    for c in idp_certs
                )
                response = client.parse_logout_request_response(
                    query["SAMLResponse"], BINDING_HTTP_REDIRECT
                )
                out = {
                    "status_ok": bool(response and response.status_ok()),
                    "signature_verified": verified,
                    "relay_state": query.get("RelayState"),
                }
            elif command == "slo-request":
                # Leerpoort tells this SP that the user signed out there.
                query = {k: v[0] for k, v in parse_qs(urlparse(arg).query).items()}
                info = client.handle_logout_request(
                    query["SAMLRequest"],
                    name_id,
                    BINDING_HTTP_REDIRECT,
                    sign=True,
                    sign_alg=SIG_RSA_SHA256,
                    relay_state=query.get("RelayState"),
                    sigalg=query["SigAlg"],
                    signature=query["Signature"],
                )
                url = location(info)
                answer = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
                xml = zlib.decompress(base64.b64decode(answer["SAMLResponse"]), -15).decode()
                out = {"url": url, "status_ok": "urn:oasis:names:tc:SAML:2.0:status:Success" in xml}
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
