"""The pysaml2 service provider exactly as `docs/integrate-saml.md` (section 8) documents it.

Used by `conformance-tests/tests/it/saml_guide.rs`. The guide's two Python blocks are read
from the guide itself and run as they are, after one change: the example hosts
(`https://uitgever.example`, `https://leerpoort.example`) become the test's addresses. The
files the guide names (`sp.key`, `sp.crt`, `leerpoort-metadata-signing.crt`, the
`attributemaps/` folder) are in DIR, which becomes the working directory.

    python guide_sp.py metadata DIR   write the SP's metadata (DIR/sp.xml) from the guide's
                                      configuration
    python guide_sp.py run DIR        one JSON line out per command line in:

    login                -> {"url": ...}    the guide's login()
    acs {"SAMLResponse"} -> {"name_id", "attributes"}  the guide's acs()

Environment: SP_BASE (e.g. http://127.0.0.1:9999), IDP_BASE (Leerpoort's issuer), GUIDE (the
guide's path).
"""

import json
import os
import re
import sys
import traceback


def guide_code():
    with open(os.environ["GUIDE"], encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n## 8.", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    if len(blocks) < 2:
        raise SystemExit("the guide's section 8 has fewer than two Python blocks")
    code = "\n".join(blocks[:2])
    code = code.replace("https://uitgever.example", os.environ["SP_BASE"])
    return code.replace("https://leerpoort.example", os.environ["IDP_BASE"])


def main():
    os.chdir(sys.argv[2])
    scope = {"__name__": "guide"}
    exec(compile(guide_code(), "integrate-saml.md", "exec"), scope)
    if sys.argv[1] == "metadata":
        from saml2.metadata import create_metadata_string

        xml = create_metadata_string(None, config=scope["conf"], valid=24)
        if isinstance(xml, bytes):
            xml = xml.decode()
        with open("sp.xml", "w") as f:
            f.write(xml)
        print(json.dumps({"entity_id": scope["conf"].entityid, "metadata": os.path.abspath("sp.xml")}))
        return
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        try:
            if command == "login":
                out = {"url": scope["login"]()}
            elif command == "acs":
                name_id, ava = scope["acs"](json.loads(arg)["SAMLResponse"])
                out = {"name_id": name_id, "attributes": ava}
            else:
                out = {"error": f"unknown command {command}"}
        except Exception as e:  # noqa: BLE001 - reported to the test
            out = {"error": repr(e), "trace": traceback.format_exc()}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
