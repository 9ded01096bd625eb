<?php
$config = [
    'baseurlpath' => '@SP@/simplesaml/',
    'certdir' => '@DIR@/simplesamlphp/cert/',
    'loggingdir' => '@DIR@/simplesamlphp/log/',
    'datadir' => '@DIR@/simplesamlphp/tmp/',
    'tempdir' => '@DIR@/simplesamlphp/tmp/',
    'metadatadir' => '@DIR@/simplesamlphp/metadata/',
    // Leerpoort's metadata as metarefresh writes it.
    'metadata.sources' => [
        ['type' => 'flatfile', 'directory' => '@DIR@/simplesamlphp/metarefresh/'],
    ],
    'technicalcontact_name' => 'Leerpoort tests',
    'technicalcontact_email' => 'tests@example.org',
    'secretsalt' => '@SALT@',
    'auth.adminpassword' => '@SALT@',
    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'timezone' => 'UTC',
    'logging.level' => SimpleSAML\Logger::INFO,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'showerrors' => true,
    'errorreporting' => false,
    'enable.saml20-idp' => false,
    'module.enable' => ['core' => true, 'saml' => true, 'admin' => true, 'cron' => true, 'metarefresh' => true],
    'store.type' => 'phpsession',
    // The tests run on http://127.0.0.1; in production keep secure cookies.
    'session.cookie.secure' => false,
    'trusted.url.domains' => ['127.0.0.1:@PORT@'],
    'language.default' => 'en',
];
