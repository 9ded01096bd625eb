DROP TABLE niveaus;
DROP TABLE licences;
DROP TABLE licence_endpoints;
DROP TABLE licence_titles;
DROP TABLE title_icons;
