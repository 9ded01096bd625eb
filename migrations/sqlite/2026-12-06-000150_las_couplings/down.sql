DROP TABLE las_couplings;
DROP TABLE las_suppliers;
-- The kind constraint stays widened: rows of kind las are gone with their suppliers only if
-- removed by hand.
