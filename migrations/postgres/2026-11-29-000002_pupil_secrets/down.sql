DROP TABLE pupil_secrets;
