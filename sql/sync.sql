--
-- sync: zd_sync makes a reference table hold the rows a patch states;
-- running it again does nothing
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

CREATE TABLE filetypes (
    code text PRIMARY KEY,
    description text NOT NULL,
    extension text,
    active boolean NOT NULL DEFAULT true,
    created_at date NOT NULL DEFAULT '2024-01-01'
);

-- an empty table: everything is inserted
SELECT * FROM zd_sync('filetypes', $$[
    {"code": "cdr", "description": "call detail records", "extension": ".cdr"},
    {"code": "csv", "description": "comma separated", "extension": ".csv"},
    {"code": "xml", "description": "xml", "extension": null}
]$$);
SELECT * FROM filetypes ORDER BY code;

-- idempotent: the same rows again change nothing
SELECT * FROM zd_sync('filetypes', $$[
    {"code": "cdr", "description": "call detail records", "extension": ".cdr"},
    {"code": "csv", "description": "comma separated", "extension": ".csv"},
    {"code": "xml", "description": "xml", "extension": null}
]$$);

-- one changed, one new, one absent (kept: delete_absent is off);
-- columns the rows do not give (active, created_at) are left alone
UPDATE filetypes SET active = false WHERE code = 'xml';
SELECT * FROM zd_sync('filetypes', $$[
    {"code": "cdr", "description": "call detail records", "extension": ".cdr"},
    {"code": "csv", "description": "comma-separated values", "extension": ".csv"},
    {"code": "tsv", "description": "tab-separated values", "extension": ".tsv"}
]$$);
SELECT * FROM filetypes ORDER BY code;

-- with delete_absent, the rows not listed go; a NULL that becomes a value
-- counts as a change
SELECT * FROM zd_sync('filetypes', $$[
    {"code": "cdr", "description": "call detail records", "extension": ".cdr"},
    {"code": "tsv", "description": "tab-separated values", "extension": ".tsv"},
    {"code": "xml", "description": "xml", "extension": ".xml"}
]$$, delete_absent => true);
SELECT code, description, extension FROM filetypes ORDER BY code;
SELECT * FROM zd_sync('filetypes', $$[
    {"code": "cdr", "description": "call detail records", "extension": ".cdr"},
    {"code": "tsv", "description": "tab-separated values", "extension": ".tsv"},
    {"code": "xml", "description": "xml", "extension": ".xml"}
]$$, delete_absent => true);
-- an empty list with delete_absent empties the table
BEGIN;
SELECT * FROM zd_sync('filetypes', '[]', delete_absent => true);
SELECT count(*) FROM filetypes;
ROLLBACK;

-- composite keys, given explicitly (no primary key on the table)
CREATE TABLE dialcodes (country text NOT NULL, prefix text NOT NULL, operator text, UNIQUE (country, prefix));
INSERT INTO dialcodes VALUES ('fr', '33', 'any'), ('gb', '44', 'any'), ('gb', '447', 'mobile');
SELECT * FROM zd_sync('dialcodes', $$[
    {"country": "fr", "prefix": "33", "operator": "any"},
    {"country": "fr", "prefix": "336", "operator": "mobile"},
    {"country": "gb", "prefix": "44", "operator": "fixed"}
]$$, keys => ARRAY['country', 'prefix'], delete_absent => true);
SELECT * FROM dialcodes ORDER BY country, prefix;
SELECT * FROM zd_sync('dialcodes', $$[
    {"country": "fr", "prefix": "33", "operator": "any"},
    {"country": "fr", "prefix": "336", "operator": "mobile"},
    {"country": "gb", "prefix": "44", "operator": "fixed"}
]$$, keys => ARRAY['country', 'prefix'], delete_absent => true);
-- a composite primary key is the default key
CREATE TABLE rates (zone integer, band integer, price numeric NOT NULL, PRIMARY KEY (zone, band));
SELECT * FROM zd_sync('rates', '[{"zone": 1, "band": 1, "price": 0.10}, {"zone": 1, "band": 2, "price": "0.20"}]');
SELECT * FROM zd_sync('rates', '[{"zone": 1, "band": 1, "price": 0.10}, {"zone": 1, "band": 2, "price": 0.25}]');
SELECT * FROM rates ORDER BY zone, band;

-- only key columns: insert and delete, nothing to update
CREATE TABLE tags (name text PRIMARY KEY);
SELECT * FROM zd_sync('tags', '[{"name": "a"}, {"name": "b"}]');
SELECT * FROM zd_sync('tags', '[{"name": "b"}, {"name": "c"}]', delete_absent => true);
SELECT * FROM tags ORDER BY name;

-- identity keys are kept as given; quoted names
CREATE TABLE "Odd Table" (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "Label" text);
SELECT * FROM zd_sync('"Odd Table"', '[{"id": 10, "Label": "ten"}, {"id": 20, "Label": "twenty"}]');
SELECT * FROM "Odd Table" ORDER BY id;

-- in a patch: reference data reviewable and idempotent
SELECT zd_register(1, 'filetypes_reference_data',
    $p$SELECT zd_sync('filetypes', '[{"code": "pdf", "description": "pdf", "extension": ".pdf"}]');$p$,
    $p$DELETE FROM filetypes WHERE code = 'pdf';$p$);
SELECT zd_align(1);
SELECT code FROM filetypes ORDER BY code;
SELECT zd_align(0);
SELECT code FROM filetypes ORDER BY code;

--
-- bad input: nothing changes
--
-- a key column missing in a row, or null there (22023)
SELECT * FROM regress_error($$SELECT * FROM zd_sync('filetypes', '[{"code": "a", "description": "x", "extension": null}, {"description": "y", "extension": null}]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('dialcodes', '[{"country": "fr", "prefix": null, "operator": "x"}]', keys => ARRAY['country', 'prefix'])$$);
-- rows without the same columns (22023)
SELECT * FROM regress_error($$SELECT * FROM zd_sync('filetypes', '[{"code": "a", "description": "x"}, {"code": "b", "extension": ".b"}]')$$);
-- unknown columns in the rows, or as keys (42703)
SELECT * FROM regress_error($$SELECT * FROM zd_sync('filetypes', '[{"code": "a", "description": "x", "colour": "red", "Code": "b"}]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('filetypes', '[{"code": "a"}]', keys => ARRAY['kode'])$$);
-- a generated column (428C9)
CREATE TABLE priced (id integer PRIMARY KEY, net numeric, gross numeric GENERATED ALWAYS AS (net * 1.2) STORED);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('priced', '[{"id": 1, "net": 1, "gross": 2}]')$$);
-- the same key twice (21000)
SELECT * FROM regress_error($$SELECT * FROM zd_sync('rates', '[{"zone": 1, "band": 1, "price": 1}, {"zone": 1, "band": "1", "price": 2}]')$$);
-- not an array of objects, no primary key, not a table, empty keys, NULLs
SELECT * FROM regress_error($$SELECT * FROM zd_sync('filetypes', '{"code": "a"}')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('filetypes', '[{"code": "a"}, 3]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('dialcodes', '[]')$$);
CREATE VIEW filetype_codes AS SELECT code FROM filetypes;
SELECT * FROM regress_error($$SELECT * FROM zd_sync('filetype_codes', '[]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('filetypes', '[]', keys => '{}')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync(NULL, '[]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('filetypes', NULL)$$);
-- a value of the wrong type is PostgreSQL's own error (22P02)
SELECT * FROM regress_error($$SELECT * FROM zd_sync('rates', '[{"zone": 1, "band": 1, "price": "cheap"}]')$$);
-- nothing changed
SELECT code, description, extension FROM filetypes ORDER BY code;
SELECT * FROM rates ORDER BY zone, band;

-- deployers only (42501)
CREATE ROLE regress_zd_syncer;
GRANT EXECUTE ON FUNCTION zd_sync TO regress_zd_syncer;
SET ROLE regress_zd_syncer;
SELECT * FROM regress_error($$SELECT * FROM zd_sync('tags', '[]')$$);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION zd_sync FROM regress_zd_syncer;
DROP ROLE regress_zd_syncer;

DROP VIEW filetype_codes;
DROP TABLE filetypes, dialcodes, rates, tags, "Odd Table", priced;
DROP FUNCTION regress_error(text);
DROP EXTENSION zerodown;
