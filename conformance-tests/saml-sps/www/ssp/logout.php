<?php
// Single Logout started at the SP.
require_once '/usr/share/simplesamlphp/lib/_autoload.php';
$as = new \SimpleSAML\Auth\Simple('default-sp');
$as->logout([
    'ReturnTo' => '@SP@/ssp/signed-out.php',
    'ReturnStateParam' => 'LogoutState',
    'ReturnStateStage' => 'LeerpoortLogout',
]);
