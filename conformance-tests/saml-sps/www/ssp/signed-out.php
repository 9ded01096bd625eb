<?php
// The outcome of the Single Logout, as SimpleSAMLphp saw Leerpoort's LogoutResponse.
require_once '/usr/share/simplesamlphp/lib/_autoload.php';
$state = \SimpleSAML\Auth\State::loadState((string) $_REQUEST['LogoutState'], 'LeerpoortLogout');
$status = $state['saml:sp:LogoutStatus'];
header('Content-Type: application/json');
echo json_encode(['status' => $status]);
