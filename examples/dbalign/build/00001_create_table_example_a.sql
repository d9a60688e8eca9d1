CREATE TABLE example_a (example_column_1 char(1));
