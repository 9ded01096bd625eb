DROP TABLE staged_imports;
