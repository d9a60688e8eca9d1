-- Runs right after the build, in the same transaction: the patch fails
-- (and is rolled back) when the first column of the last query is false.
SELECT EXISTS (
    SELECT FROM information_schema.columns
     WHERE table_schema = current_schema()
       AND table_name = 'example_a'
       AND column_name = 'example_column_2'
) AS example_column_2_exists;
