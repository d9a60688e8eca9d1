ALTER TABLE example_a ADD COLUMN example_column_2 char(1);
