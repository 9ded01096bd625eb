DROP TABLE duo_locations;
