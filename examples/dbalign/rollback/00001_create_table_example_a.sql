DROP TABLE example_a;
