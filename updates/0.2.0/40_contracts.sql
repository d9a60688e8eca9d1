/* ---------- a contract is irreversible (issue 11 item 8) ---------- */

-- which patch expanded and which contracted each expansion: rolling back a
-- patch that contracted an expansion (or the patch that expanded one that
-- was contracted outside any patch) is refused before anything runs
ALTER TABLE zerodown.expansions
    ADD COLUMN expanded_by_patch integer,
    ADD COLUMN contracted_by_patch integer;
COMMENT ON COLUMN zerodown.expansions.expanded_by_patch IS 'the patch whose build expanded it, or NULL (outside any patch, or before 0.2.0)';
COMMENT ON COLUMN zerodown.expansions.contracted_by_patch IS 'the patch whose build contracted it, or NULL: a contract is irreversible, so that patch cannot be rolled back';
