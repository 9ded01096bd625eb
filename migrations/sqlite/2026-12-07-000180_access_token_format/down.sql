ALTER TABLE relying_parties DROP COLUMN access_token_format;
