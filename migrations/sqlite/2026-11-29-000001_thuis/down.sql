DROP TABLE thuis_tokens;
DROP TABLE thuis_links;
DROP TABLE thuis_accounts;
