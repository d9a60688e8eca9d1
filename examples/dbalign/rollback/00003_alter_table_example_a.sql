ALTER TABLE example_a DROP COLUMN example_column_2;
