DROP TABLE thuis_codes;
