<?php
// What mod_shib hands the application: the attributes by their attribute-map.xml ids.
header('Content-Type: application/json');
$names = ['Shib-Session-ID', 'Shib-Identity-Provider', 'Shib-Session-Index', 'REMOTE_USER',
    'pairwise-id', 'persistent-id', 'eckId', 'nlEduPersonHomeOrganizationBranchId',
    'nlEduPersonHomeOrganizationId', 'eduPersonAffiliation', 'instellingRef', 'role',
    'loginContext', 'groups', 'groupNames', 'givenName', 'sn', 'displayName', 'mail'];
$out = [];
foreach ($names as $k) {
    if (isset($_SERVER[$k]) && $_SERVER[$k] !== '') {
        $out[$k] = $_SERVER[$k];
    }
}
echo json_encode($out);
