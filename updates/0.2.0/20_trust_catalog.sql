/*
 * Only the extension's owner writes zerodown's tables (issue 10, item 2).
 *
 * In 0.1.0 the members of zerodown_deployer could INSERT, UPDATE and DELETE
 * zerodown's tables directly: an UPDATE of zerodown.patches rewrote an
 * applied patch without its checksum showing drift, and a made-up row of
 * zerodown.expansions made zd_contract lock any relation.  From 0.2.0 the
 * C functions write these tables as the extension's owner, and deployers
 * keep only SELECT, on the tables and views the README documents.
 */
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON zerodown.patches, zerodown.applied, zerodown.vars, zerodown.history,
       zerodown.deployments, zerodown.publishes, zerodown.expansions
  FROM zerodown_deployer;
REVOKE ALL ON SEQUENCE zerodown.history_id_seq, zerodown.deployments_id_seq,
                       zerodown.publishes_id_seq, zerodown.expansions_id_seq
  FROM zerodown_deployer;
GRANT SELECT ON zerodown.patches, zerodown.applied, zerodown.vars, zerodown.history,
                zerodown.deployments, zerodown.publishes, zerodown.expansions
   TO zerodown_deployer;

/*
 * Placeholder values are part of an applied patch (issue 10 item 7): the
 * values of the ${name} placeholders a patch's texts used when it was
 * applied are recorded with it, and a value changed since shows as drift.
 * A rollback is refused while a value differs from the one its build used,
 * as it is while its text differs.  Rows applied by 0.1.0 have no record.
 */
ALTER TABLE zerodown.applied ADD COLUMN vars jsonb;
COMMENT ON COLUMN zerodown.applied.vars IS 'the values of the ${name} placeholders the patch''s texts used when it was applied (NULL: applied by zerodown 0.1.0, not recorded)';

/*
 * zerodown.status says whether each patch's text still matches the checksum
 * it was registered with (intact): false when the row was changed outside
 * zd_register, and then zd_align, zd_align_each, the worker and the zd
 * client refuse to run it.  The checksum is ZdChecksum's: SHA-256 over
 * "T" || text (or "N" for NULL) || x'1f' for name, build, rollback, verify.
 * vars_changed lists the placeholders whose value changed since the patch
 * was applied; drift is true when its text or one of them changed.
 */
CREATE OR REPLACE VIEW zerodown.status AS
SELECT p.number,
       p.name,
       a.number IS NOT NULL AS applied,
       a.applied_at,
       a.applied_by,
       p.checksum,
       a.checksum AS applied_checksum,
       coalesce(a.checksum <> p.checksum, false) OR coalesce(pg_catalog.cardinality(c.names) > 0, false) AS drift,
       p.rollback_sql IS NOT NULL AS reversible,
       p.build_transactional AS transactional,
       p.source,
       p.registered_at,
       pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
           'T' || p.name || pg_catalog.chr(31) ||
           'T' || p.build_sql || pg_catalog.chr(31) ||
           coalesce('T' || p.rollback_sql, 'N') || pg_catalog.chr(31) ||
           coalesce('T' || p.verify_sql, 'N') || pg_catalog.chr(31),
           pg_catalog.getdatabaseencoding())), 'hex') = p.checksum AS intact,
       a.vars AS applied_vars,
       c.names AS vars_changed
  FROM zerodown.patches p
  LEFT JOIN zerodown.applied a ON a.number = p.number
  LEFT JOIN LATERAL (
       SELECT coalesce(pg_catalog.array_agg(u.key ORDER BY u.key), '{}') AS names
         FROM pg_catalog.jsonb_each_text(a.vars) u
         LEFT JOIN zerodown.vars v ON v.name = u.key
        WHERE v.value IS DISTINCT FROM u.value) c ON a.vars IS NOT NULL
 ORDER BY p.number;
COMMENT ON VIEW zerodown.status IS 'every registered patch: applied or not, when, with which placeholder values, whether its text or those values drifted since it was applied, and whether its text still matches its checksum (intact)';
