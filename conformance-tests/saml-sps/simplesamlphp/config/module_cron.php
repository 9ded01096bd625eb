<?php
$config = [
    'key' => '@SALT@',
    'allowed_tags' => ['hourly'],
    'debug_message' => true,
    'sendemail' => false,
];
