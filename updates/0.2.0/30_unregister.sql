
/* ---------- 30: the zd client's folder as the truth ---------- */

-- A patch whose file left the folder, and that is not applied, leaves the
-- registry: the zd client calls this when it registers a folder.
CREATE FUNCTION @extschema@.zd_unregister(number integer)
RETURNS text
AS 'MODULE_PATHNAME', 'zd_unregister'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_unregister(integer) IS
'removes a registered patch that is not applied (an applied one is refused); returns its name';
REVOKE ALL ON FUNCTION @extschema@.zd_unregister(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_unregister(integer) TO zerodown_deployer;
