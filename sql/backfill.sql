--
-- backfill: only the rows that existed before the expansion, in committed
-- keyset batches, never overwriting what a writer set, resumable
--
CREATE EXTENSION zerodown;

CREATE VIEW regress_progress AS
SELECT id, table_name, target, state, rows_done, rows_total, rows_written,
       batches, percent,
       (SELECT last_key FROM zerodown.expansions e WHERE e.id = s.id) AS last_key,
       (SELECT watermark FROM zerodown.expansions e WHERE e.id = s.id) AS watermark
  FROM zerodown.expansion_status s;

CREATE TABLE big (id integer PRIMARY KEY, email text);
INSERT INTO big SELECT i, 'User' || i || '@Example.com' FROM generate_series(1, 2500) i;
SELECT zd_expand_column('big', 'email', 'email_normalized', 'text', 'lower(email)', 'email_normalized');
-- the watermark is the highest key when the trigger was installed
SELECT * FROM regress_progress;

-- rows written after the expansion are right already, and beyond the
-- watermark: a busy insert stream does not make the backfill chase them
INSERT INTO big (id, email) SELECT i, 'Late' || i || '@Example.com' FROM generate_series(2501, 3000) i;
SELECT count(*) AS late_rows_filled FROM big WHERE id > 2500 AND email_normalized = lower(email);
-- a row written since with both columns keeps what its writer chose
UPDATE big SET email = 'Chosen@Example.com', email_normalized = 'chosen by version 2' WHERE id = 20;

-- a batch that fails stops the backfill; the batches before it stay done
CREATE TABLE regress_stop (id integer);
INSERT INTO regress_stop VALUES (1500);
CREATE FUNCTION regress_stop_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM regress_stop WHERE id = NEW.id) THEN
        RAISE EXCEPTION 'stopped at row %', NEW.id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER a_stop BEFORE UPDATE ON big FOR EACH ROW EXECUTE FUNCTION regress_stop_at();
SET client_min_messages = warning;
\set VERBOSITY terse
CALL zd_backfill('big', 'email_normalized', batch_size => 1000);
\set VERBOSITY default
RESET client_min_messages;
SELECT * FROM regress_progress;
SELECT count(*) FILTER (WHERE id <= 1000 AND email_normalized IS NULL) AS first_batch_left,
       count(*) FILTER (WHERE id > 1000 AND id <= 2500 AND email_normalized IS NULL) AS rest_left
  FROM big;

-- run again: it goes on from the last committed batch
DELETE FROM regress_stop;
SET client_min_messages = warning;
CALL zd_backfill('big', 'email_normalized', batch_size => 1000);
RESET client_min_messages;
SELECT * FROM regress_progress;
SELECT count(*) AS unfilled FROM big WHERE email_normalized IS NULL;
SELECT id, email, email_normalized FROM big WHERE email_normalized IS DISTINCT FROM lower(email) ORDER BY id;
-- once done, another call has nothing to do
CALL zd_backfill('big', 'email_normalized');
SELECT zd_contract('big', 'email_normalized');

--
-- inside a transaction block the batches commit with the caller: rolling
-- back undoes them all
--
CREATE TABLE small (id integer PRIMARY KEY, name text);
INSERT INTO small SELECT i, 'Name ' || i FROM generate_series(1, 10) i;
SELECT zd_expand_column('small', 'name', 'name_upper', 'text', 'upper(name)', 'initcap(name_upper)');
BEGIN;
SET LOCAL client_min_messages = warning;
CALL zd_backfill('small', 'name_upper', batch_size => 3, pause_ms => 1);
SELECT state, rows_done, batches FROM zerodown.expansions WHERE target = 'name_upper';
ROLLBACK;
SELECT state, rows_done, batches FROM zerodown.expansions WHERE target = 'name_upper';
SELECT count(*) AS filled FROM small WHERE name_upper IS NOT NULL;
BEGIN;
SET LOCAL client_min_messages = warning;
CALL zd_backfill('small', 'name_upper', batch_size => 3);
COMMIT;
SELECT * FROM regress_progress WHERE target = 'name_upper';
SELECT * FROM small ORDER BY id;

--
-- from a patch: zd_align runs it in its transaction
--
CREATE TABLE tagged (id bigint PRIMARY KEY, tag text);
INSERT INTO tagged SELECT i, 'T' || i FROM generate_series(1, 5) i;
SELECT zd_register(1, 'expand_tagged',
                   $$SELECT zd_expand_column('tagged', 'tag', 'tag_lower', 'text', 'lower(tag)', 'upper(tag_lower)');
                     CALL zd_backfill('tagged', 'tag_lower');$$,
                   $$SELECT zd_abort('tagged', 'tag_lower');$$);
SET client_min_messages = warning;
SELECT zd_align(1);
RESET client_min_messages;
SELECT * FROM regress_progress WHERE table_name = 'tagged'::regclass;
SELECT * FROM tagged ORDER BY id;

--
-- a table that was empty when it was expanded has nothing to backfill
--
CREATE TABLE fresh (id integer PRIMARY KEY, v text);
SELECT zd_expand_column('fresh', 'v', 'w', 'text', 'v', 'w');
SELECT * FROM regress_progress WHERE table_name = 'fresh'::regclass;
SELECT zd_contract('fresh', 'w');

--
-- a table with no primary key can be expanded, but not backfilled until it
-- has one; the watermark is then taken at the first backfill
--
CREATE TABLE nokey (id integer NOT NULL, v text);
INSERT INTO nokey VALUES (1, 'a'), (2, 'b');
SELECT zd_expand_column('nokey', 'v', 'v_upper', 'text', 'upper(v)', 'lower(v_upper)');
INSERT INTO nokey (id, v) VALUES (3, 'c');
CALL zd_backfill('nokey', 'v_upper');
ALTER TABLE nokey ADD PRIMARY KEY (id);
SET client_min_messages = warning;
CALL zd_backfill('nokey', 'v_upper');
RESET client_min_messages;
SELECT * FROM regress_progress WHERE table_name = 'nokey'::regclass;
SELECT * FROM nokey ORDER BY id;

--
-- a table expansion, in batches of 3
--
CREATE TABLE owners (id integer PRIMARY KEY, city text);
INSERT INTO owners SELECT i, CASE WHEN i % 4 = 0 THEN NULL ELSE 'City ' || i END FROM generate_series(1, 10) i;
CREATE TABLE places (id serial PRIMARY KEY, owner_id integer NOT NULL REFERENCES owners, city text);
CREATE INDEX ON places (owner_id, id);
SELECT zd_expand_table('owners', 'places', 'owner_id', ARRAY['city']);
-- the new version adds a place for owner 2 before the backfill reaches it
INSERT INTO places (owner_id, city) VALUES (2, 'Elsewhere');
SET client_min_messages = warning;
CALL zd_backfill('owners', 'places', batch_size => 3);
RESET client_min_messages;
SELECT * FROM regress_progress WHERE table_name = 'owners'::regclass;
SELECT o.id, o.city, count(p.id) AS places, min(p.city) AS place_city
  FROM owners o LEFT JOIN places p ON p.owner_id = o.id
 GROUP BY o.id, o.city ORDER BY o.id;

-- the status function, for one table
SELECT id, kind, state, percent FROM zd_expansion_status('owners');

DROP TABLE big, regress_stop, small, tagged, fresh, nokey, places, owners;
DROP FUNCTION regress_stop_at();
DROP VIEW regress_progress;
DROP EXTENSION zerodown;
