DROP TABLE staff_totp;
