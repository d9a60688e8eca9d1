/* ---------- adopting a database: zd_baseline (issue 11 item 9) ---------- */

-- the history says which patches were adopted, not built, and which
-- applied patches had a rollback that could not run replaced (repair.c)
ALTER TABLE zerodown.history DROP CONSTRAINT history_outcome_check;
ALTER TABLE zerodown.history ADD CONSTRAINT history_outcome_check
    CHECK (outcome IN ('done', 'failed', 'adopted', 'repaired'));
COMMENT ON COLUMN zerodown.history.outcome IS 'done; failed; adopted: marked applied by zd_baseline without running; repaired: the rollback of an applied patch, which could not run, was replaced';

CREATE FUNCTION @extschema@.zd_baseline(target integer)
RETURNS integer
AS 'MODULE_PATHNAME', 'zd_baseline'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_baseline(integer) IS
'adopts a database built by another tool: marks registered patches 1..target applied without running them (history outcome adopted); returns target';
REVOKE ALL ON FUNCTION @extschema@.zd_baseline(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_baseline(integer) TO zerodown_deployer;
