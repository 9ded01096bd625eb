DROP TABLE saml_sp_options;
