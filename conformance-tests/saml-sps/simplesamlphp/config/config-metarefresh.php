<?php
$config = [
    'sets' => [
        'leerpoort' => [
            'cron' => ['hourly'],
            'sources' => [
                [
                    'src' => '@LEERPOORT@/saml/metadata',
                    // The pinned metadata-signing certificate: metadata it does not verify is refused.
                    'certificates' => ['@DIR@/simplesamlphp/cert/leerpoort-metadata-signing.crt'],
                    // Refuse assertions that are not encrypted.
                    'template' => ['assertion.encryption' => true],
                ],
            ],
            'expireAfter' => 7 * 24 * 3600,
            'outputDir' => '@DIR@/simplesamlphp/metarefresh/',
            'outputFormat' => 'flatfile',
        ],
    ],
];
