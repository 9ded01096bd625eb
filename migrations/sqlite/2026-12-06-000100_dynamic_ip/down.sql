DROP TABLE dynamic_ip_history;
DROP TABLE dynamic_ip;
ALTER TABLE schools DROP COLUMN dynamic_network;
