DROP TABLE example_b;
