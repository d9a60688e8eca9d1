--
-- clone: zd_clone_schema copies a schema's tables with their data,
-- sequences and their values, serial and identity columns, constraints,
-- indexes, foreign keys and views re-pointed to the copies, materialized
-- views, triggers, policies, comments, privileges and owners; what it
-- cannot copy it lists before creating anything
--
CREATE EXTENSION zerodown;

CREATE FUNCTION regress_error(stmt text) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE stmt;
    RETURN NEXT 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN NEXT 'SQLSTATE: ' || state;
    RETURN NEXT 'ERROR:  ' || message;
    IF detail <> '' THEN
        RETURN NEXT 'DETAIL:  ' || detail;
    END IF;
    IF hint <> '' THEN
        RETURN NEXT 'HINT:  ' || hint;
    END IF;
END
$fn$;

-- every relation of a schema with its kind, owner and privileges
CREATE FUNCTION regress_relations(s name)
RETURNS TABLE (relname name, relkind "char", owner name, acl text, comment text)
LANGUAGE sql AS $fn$
    SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner),
           regexp_replace(c.relacl::text, '/[a-z_]+', '', 'g'),
           obj_description(c.oid, 'pg_class')
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = s
     ORDER BY c.relname
$fn$;

-- the definitions that matter, with the schema names neutralised
CREATE FUNCTION regress_definitions(s name) RETURNS TABLE (what text, definition text)
LANGUAGE sql AS $fn$
    SELECT * FROM (
        SELECT 'column ' || c.relname || '.' || a.attname,
               format_type(a.atttypid, a.atttypmod)
               || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
               || CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END
               || CASE a.attgenerated WHEN 's' THEN ' generated' ELSE '' END
               || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
               || coalesce(' comment ' || col_description(c.oid, a.attnum), '')
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
         WHERE n.nspname = s AND c.relkind = 'r'
        UNION ALL
        SELECT 'constraint ' || c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
          FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = s
        UNION ALL
        SELECT 'index ' || i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = s
        UNION ALL
        SELECT 'view ' || v.viewname, v.definition FROM pg_views v WHERE v.schemaname = s
        UNION ALL
        SELECT 'matview ' || m.matviewname, m.definition || CASE WHEN m.ispopulated THEN ' (populated)' ELSE ' (not populated)' END
          FROM pg_matviews m WHERE m.schemaname = s
        UNION ALL
        SELECT 'sequence ' || q.sequencename,
               format('%s start %s increment %s min %s max %s cache %s cycle %s last %s owned by %s',
                      q.data_type, q.start_value, q.increment_by, q.min_value, q.max_value,
                      q.cache_size, q.cycle, q.last_value,
                      (SELECT d.refobjid::regclass || '.' || a.attname
                         FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = format('%I.%I', s, q.sequencename)::regclass
                          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
          FROM pg_sequences q WHERE q.schemaname = s
        UNION ALL
        SELECT 'trigger ' || t.tgname, pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = s AND NOT t.tgisinternal
        UNION ALL
        SELECT 'policy ' || p.policyname,
               format('%s %s to %s using %s check %s', p.permissive, p.cmd, p.roles, p.qual, p.with_check)
          FROM pg_policies p WHERE p.schemaname = s
    ) d (what, definition)
    ORDER BY what
$fn$;

CREATE ROLE regress_zd_reader;
CREATE ROLE regress_zd_owner;

--
-- a schema with a bit of everything
--
CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'the shop';
GRANT USAGE ON SCHEMA shop TO regress_zd_reader;
CREATE SEQUENCE shop.invoice_no AS integer START 1000 INCREMENT 5 CACHE 1;
SELECT nextval('shop.invoice_no'), nextval('shop.invoice_no');
CREATE SEQUENCE shop.unused START 7;
CREATE TABLE shop.customers (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text COLLATE "C" CHECK (name <> ''),
    invoice integer DEFAULT nextval('shop.invoice_no')
);
CREATE TABLE shop.orders (
    id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100) PRIMARY KEY,
    customer_id integer NOT NULL,
    amount numeric(10, 2) NOT NULL,
    doubled numeric GENERATED ALWAYS AS (amount * 2) STORED,
    placed date NOT NULL DEFAULT '2024-01-01',
    CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES shop.customers (id) ON DELETE CASCADE,
    CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID
) WITH (fillfactor = 90);
CREATE TABLE shop.lines (
    order_id bigint REFERENCES shop.orders DEFERRABLE INITIALLY DEFERRED,
    line integer GENERATED BY DEFAULT AS IDENTITY,
    sku text,
    PRIMARY KEY (order_id, line)
);
CREATE UNIQUE INDEX lines_sku_unique ON shop.lines (lower(sku)) WHERE sku IS NOT NULL;
CREATE INDEX orders_by_customer ON shop.orders (customer_id, placed DESC);
ALTER TABLE shop.orders CLUSTER ON orders_by_customer;
CREATE UNLOGGED TABLE shop.scratch (k text);
-- column options and replica identity
ALTER TABLE shop.lines ALTER COLUMN sku SET STATISTICS 500;
ALTER TABLE shop.lines ALTER COLUMN sku SET STORAGE EXTERNAL;
ALTER TABLE shop.lines ALTER COLUMN sku SET COMPRESSION pglz;
ALTER TABLE shop.lines ALTER COLUMN sku SET (n_distinct = 100);
ALTER TABLE shop.lines REPLICA IDENTITY USING INDEX lines_pkey;
ALTER TABLE shop.scratch REPLICA IDENTITY FULL;
-- a foreign key to a table outside the schema stays pointed outside
CREATE TABLE public.regions (code text PRIMARY KEY);
INSERT INTO public.regions VALUES ('eu');
ALTER TABLE shop.customers ADD COLUMN region text REFERENCES public.regions;
ALTER TABLE shop.customers ADD COLUMN dropped_later integer;
ALTER TABLE shop.customers DROP COLUMN dropped_later;

INSERT INTO shop.customers (email, name, region) VALUES ('a@x', 'ann', 'eu'), ('b@x', 'bob', NULL);
INSERT INTO shop.orders (customer_id, amount) VALUES (1, 10), (1, 5.5), (2, 7);
INSERT INTO shop.lines (order_id, sku) VALUES (100, 'A'), (100, 'b'), (102, NULL);

-- views on views, and a materialized view on a view
CREATE VIEW shop.order_totals AS
    SELECT c.id, c.email, sum(o.amount) AS total
      FROM shop.customers c JOIN shop.orders o ON o.customer_id = c.id
     GROUP BY c.id, c.email;
CREATE VIEW shop.big_spenders WITH (security_barrier) AS
    SELECT email FROM shop.order_totals WHERE total > 10;
CREATE MATERIALIZED VIEW shop.spender_count AS SELECT count(*) AS n FROM shop.big_spenders;
CREATE UNIQUE INDEX spender_count_n ON shop.spender_count (n);
CREATE MATERIALIZED VIEW shop.later AS SELECT 1 AS one WITH NO DATA;
-- a view created before the view it uses (CREATE OR REPLACE)
CREATE VIEW shop.early AS SELECT 1 AS x;
CREATE VIEW shop.late AS SELECT email FROM shop.customers;
CREATE OR REPLACE VIEW shop.early AS SELECT count(*)::integer AS x FROM shop.late;

-- a trigger (its function lives outside the schema), row security, comments, grants, owners
CREATE FUNCTION public.regress_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.placed := '2024-02-02'; RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE INSERT ON shop.orders FOR EACH ROW EXECUTE FUNCTION public.regress_touch();
CREATE TRIGGER orders_off BEFORE UPDATE ON shop.orders FOR EACH ROW EXECUTE FUNCTION public.regress_touch();
ALTER TABLE shop.orders DISABLE TRIGGER orders_off;
ALTER TABLE shop.lines ENABLE ROW LEVEL SECURITY;
CREATE POLICY lines_known ON shop.lines FOR SELECT TO regress_zd_reader USING (sku IS NOT NULL);
COMMENT ON TABLE shop.orders IS 'one row per order';
COMMENT ON COLUMN shop.orders.amount IS 'in euros';
COMMENT ON VIEW shop.order_totals IS 'totals';
COMMENT ON INDEX shop.orders_by_customer IS 'for the customer page';
COMMENT ON CONSTRAINT orders_customer_fk ON shop.orders IS 'every order has a customer';
COMMENT ON TRIGGER orders_touch ON shop.orders IS 'stamps the date';
GRANT SELECT ON shop.orders, shop.order_totals TO regress_zd_reader;
GRANT SELECT (email) ON shop.customers TO regress_zd_reader;
GRANT USAGE ON SEQUENCE shop.invoice_no TO regress_zd_reader WITH GRANT OPTION;
ALTER TABLE shop.scratch OWNER TO regress_zd_owner;

--
-- the copy
--
SELECT * FROM zd_clone_schema('shop', 'shop_copy') ORDER BY kind, object;

-- the same definitions, pointing at the copies
SELECT what, replace(definition, 'shop_copy.', 'shop.') AS definition
  FROM regress_definitions('shop_copy')
EXCEPT
SELECT what, definition FROM regress_definitions('shop');
SELECT what, definition FROM regress_definitions('shop')
EXCEPT
SELECT what, replace(definition, 'shop_copy.', 'shop.') FROM regress_definitions('shop_copy');
SELECT what, definition FROM regress_definitions('shop_copy')
 WHERE definition LIKE '%shop.%' OR what LIKE 'constraint customers.customers_region_fkey';
SELECT count(*) AS definitions FROM regress_definitions('shop_copy');

-- relations, owners, privileges and comments
SELECT * FROM regress_relations('shop_copy')
EXCEPT
SELECT * FROM regress_relations('shop');
SELECT relname, relkind, owner, acl, comment FROM regress_relations('shop_copy')
 WHERE acl IS NOT NULL OR comment IS NOT NULL OR owner <> current_user ORDER BY relname;
SELECT nspname, regexp_replace(nspacl::text, '/[a-z_]+', '', 'g') AS acl, obj_description(oid, 'pg_namespace')
  FROM pg_namespace WHERE nspname IN ('shop', 'shop_copy') ORDER BY nspname;
SELECT attname, regexp_replace(attacl::text, '/[a-z_]+', '', 'g') AS acl
  FROM pg_attribute WHERE attrelid = 'shop_copy.customers'::regclass AND attacl IS NOT NULL;
SELECT relname, relpersistence, reloptions, relrowsecurity
  FROM pg_class WHERE relnamespace = 'shop_copy'::regnamespace AND relkind = 'r' ORDER BY relname;
SELECT indexrelid::regclass, indisclustered FROM pg_index WHERE indrelid = 'shop_copy.orders'::regclass ORDER BY 1;
CREATE FUNCTION regress_columns(s name)
RETURNS TABLE (relname name, attname name, stattarget integer, storage "char", compression "char", options text[])
LANGUAGE sql AS $fn$
    SELECT c.relname, a.attname, a.attstattarget, a.attstorage, a.attcompression,
           ARRAY(SELECT o FROM unnest(a.attoptions) o WHERE o LIKE 'n\_distinct%')
      FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relnamespace = s::regnamespace AND c.relkind = 'r'
$fn$;
SELECT * FROM regress_columns('shop') EXCEPT SELECT * FROM regress_columns('shop_copy');
SELECT * FROM regress_columns('shop_copy') WHERE stattarget >= 0 OR cardinality(options) > 0;
SELECT relname, relreplident FROM pg_class
 WHERE relnamespace = 'shop_copy'::regnamespace AND relkind = 'r' AND relreplident <> 'd' ORDER BY relname;
SELECT indexrelid::regclass FROM pg_index WHERE indisreplident AND indrelid = 'shop_copy.lines'::regclass;
SELECT obj_description('shop_copy.orders_by_customer'::regclass, 'pg_class') AS index_comment,
       (SELECT obj_description(oid, 'pg_constraint') FROM pg_constraint
         WHERE conrelid = 'shop_copy.orders'::regclass AND conname = 'orders_customer_fk') AS fk_comment,
       (SELECT obj_description(oid, 'pg_trigger') FROM pg_trigger
         WHERE tgrelid = 'shop_copy.orders'::regclass AND tgname = 'orders_touch') AS trigger_comment;

-- the data, and the sequences where they were
SELECT * FROM shop_copy.customers ORDER BY id;
SELECT * FROM shop_copy.orders ORDER BY id;
SELECT * FROM shop_copy.lines ORDER BY order_id, line;
SELECT * FROM shop_copy.spender_count;
SELECT * FROM shop_copy.early;
SELECT last_value, is_called FROM shop_copy.invoice_no;
SELECT last_value, is_called FROM shop_copy.unused;
-- serial and identity columns go on from the source's values, in the copy only
INSERT INTO shop_copy.customers (email) VALUES ('c@x') RETURNING id, invoice;
INSERT INTO shop_copy.orders (customer_id, amount) VALUES (3, 1) RETURNING id, placed;
INSERT INTO shop_copy.lines (order_id) VALUES (103) RETURNING line;
SELECT last_value FROM shop.customers_id_seq;
SELECT last_value FROM shop.invoice_no;
-- the foreign keys and the materialized view are the copy's own
SELECT * FROM regress_error($$INSERT INTO shop_copy.orders (customer_id, amount) VALUES (99, 1)$$);
DELETE FROM shop_copy.lines;
DELETE FROM shop_copy.customers WHERE id = 2;
SELECT count(*) AS copy_orders FROM shop_copy.orders;
SELECT count(*) AS source_orders FROM shop.orders;
REFRESH MATERIALIZED VIEW shop_copy.spender_count;
SELECT * FROM shop_copy.spender_count;
SELECT * FROM shop.spender_count;
-- dropping the source leaves the copy whole
BEGIN;
DROP SCHEMA shop CASCADE;
SELECT count(*) FROM shop_copy.order_totals;
ROLLBACK;

--
-- structure only: no rows, sequences from their start, materialized views unpopulated
--
SELECT kind, count(*), sum(rows) FROM zd_clone_schema('shop', 'shop_empty', structure_only => true)
 GROUP BY kind ORDER BY kind;
SELECT count(*) FROM shop_empty.customers;
SELECT last_value, is_called FROM shop_empty.invoice_no;
SELECT relname, relispopulated FROM pg_class WHERE relnamespace = 'shop_empty'::regnamespace AND relkind = 'm' ORDER BY 1;
INSERT INTO shop_empty.customers (email) VALUES ('x@x') RETURNING id, invoice;

--
-- what cannot be copied is listed, and nothing is created (0A000)
--
CREATE SCHEMA odd;
CREATE TYPE odd.mood AS ENUM ('ok', 'sad');
CREATE DOMAIN odd.positive AS integer CHECK (VALUE > 0);
CREATE FUNCTION odd.twice(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1 * 2';
CREATE TABLE odd.events (id integer, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE odd.events_2024 PARTITION OF odd.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE odd.parent (id integer);
CREATE TABLE odd.child () INHERITS (odd.parent);
CREATE TABLE odd.plain (id integer);
CREATE RULE plain_nothing AS ON DELETE TO odd.plain DO INSTEAD NOTHING;
ALTER TABLE odd.plain ADD COLUMN code text;
CREATE STATISTICS odd.plain_stats ON id, code FROM odd.plain;
SET client_min_messages = error;
CREATE PUBLICATION odd_pub FOR TABLE odd.plain;
RESET client_min_messages;
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('odd', 'odd_copy')$$);
SELECT count(*) AS odd_copy FROM pg_namespace WHERE nspname = 'odd_copy';
DROP PUBLICATION odd_pub;

--
-- bad input (3F000, 42P06, 22023, 22004)
--
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('nothing_here', 'x')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('shop', 'shop_copy')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('shop', 'shop')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('pg_catalog', 'my_catalog')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema(NULL, 'x')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('shop', '')$$);
-- deployers only (42501)
CREATE ROLE regress_zd_cloner;
GRANT EXECUTE ON FUNCTION zd_clone_schema TO regress_zd_cloner;
SET ROLE regress_zd_cloner;
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('shop', 'shop_x')$$);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION zd_clone_schema FROM regress_zd_cloner;
DROP ROLE regress_zd_cloner;

SET client_min_messages = warning;
DROP SCHEMA shop, shop_copy, shop_empty, odd CASCADE;
RESET client_min_messages;
DROP TABLE public.regions;
DROP FUNCTION public.regress_touch();
DROP ROLE regress_zd_reader, regress_zd_owner;
DROP FUNCTION regress_error(text);
DROP FUNCTION regress_relations(name);
DROP FUNCTION regress_definitions(name);
DROP FUNCTION regress_columns(name);
DROP EXTENSION zerodown;
