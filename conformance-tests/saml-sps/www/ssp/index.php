<?php
// What SimpleSAMLphp hands the application after sign-in.
require_once '/usr/share/simplesamlphp/lib/_autoload.php';
$as = new \SimpleSAML\Auth\Simple('default-sp');
$as->requireAuth();
$nameId = $as->getAuthData('saml:sp:NameID');
header('Content-Type: application/json');
echo json_encode([
    'attributes' => $as->getAttributes(),
    'name_id' => $nameId === null ? null : $nameId->getValue(),
    'name_id_format' => $nameId === null ? null : $nameId->getFormat(),
    'idp' => $as->getAuthData('saml:sp:IdP'),
]);
