<?php
$config = [
    'admin' => ['core:AdminPassword'],
    'default-sp' => [
        'saml:SP',
        'entityID' => '@SP@/simplesaml/module.php/saml/sp/metadata.php/default-sp',
        'idp' => '@LEERPOORT@/saml/metadata',
        'privatekey' => 'sp.key',
        'certificate' => 'sp.crt',
        'sign.authnrequest' => true,
        'sign.logout' => true,
        'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
        // Where an unsolicited response (a school shortcut) lands.
        'RelayState' => '@SP@/ssp/',
    ],
];
