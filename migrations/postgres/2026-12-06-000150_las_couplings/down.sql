DROP TABLE las_couplings;
DROP TABLE las_suppliers;
