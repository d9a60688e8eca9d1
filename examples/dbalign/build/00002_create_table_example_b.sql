CREATE TABLE example_b (example_column_1 char(1));
