"""pysaml2 attribute maps for Leerpoort's attributes (docs/integrate-saml.md, section 8).

Leerpoort names its attributes as Entree Federatie does, with NameFormat `basic`
(`eckId`, `nlEduPersonHomeOrganizationBranchId`, ...). pysaml2's own `basic` map knows only
`urn:mace:dir:attribute-def:` names, so without this map (or `allow_unknown_attributes`) a
response's `ava` is empty. Point `attribute_map_dir` at the folder holding this file: pysaml2
then reads these maps instead of its own, which is why `pairwise-id` (NameFormat `uri`, sent
with a transient NameID) is mapped here too.
"""

BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

_NAMES = [
    "eckId",
    "nlEduPersonHomeOrganizationBranchId",
    "nlEduPersonHomeOrganizationId",
    "eduPersonAffiliation",
    "instellingRef",
    "role",
    "loginContext",
    "groups",
    "groupNames",
    "niveau",
    "givenName",
    "sn",
    "displayName",
    "mail",
]

MAP = {
    "identifier": BASIC,
    "fro": {name: name for name in _NAMES},
    "to": {name: name for name in _NAMES},
}

MAP_URI = {
    "identifier": URI,
    "fro": {"urn:oasis:names:tc:SAML:attribute:pairwise-id": "pairwise-id"},
    "to": {"pairwise-id": "urn:oasis:names:tc:SAML:attribute:pairwise-id"},
}
