--
-- baseline: adopting a database that another tool built.  zd_baseline(N)
-- marks registered patches 1..N applied without running them, and the
-- history says they were adopted; every check comes before anything
-- changes
--
CREATE EXTENSION zerodown;

CREATE VIEW regress_state AS
SELECT zd_version() AS version,
       (SELECT count(*) FROM zerodown.applied) AS applied,
       (SELECT string_agg(number || ' ' || direction || ' ' || outcome || ' ' || attempts, ', ' ORDER BY id)
          FROM zerodown.history) AS history;

-- the database as the other tool left it: patches 1 and 2 are in it
CREATE TABLE bl_accounts (id int PRIMARY KEY);
CREATE TABLE bl_orders (id int PRIMARY KEY, account_id int REFERENCES bl_accounts (id));

SELECT zd_register(1, 'create_bl_accounts', 'CREATE TABLE bl_accounts (id int PRIMARY KEY)',
                   'DROP TABLE bl_accounts');
SELECT zd_register(2, 'create_bl_orders',
                   'CREATE TABLE bl_orders (id int PRIMARY KEY, account_id int REFERENCES bl_accounts (id))',
                   'DROP TABLE bl_orders');
SELECT zd_register(3, 'add_bl_orders_note', 'ALTER TABLE bl_orders ADD COLUMN note text',
                   'ALTER TABLE bl_orders DROP COLUMN note');
SELECT zd_register(5, 'gap', 'SELECT 1', 'SELECT 1');

-- bad input: nothing is adopted
SELECT zd_baseline(NULL);
SELECT zd_baseline(0);
SELECT zd_baseline(5);
SELECT zd_baseline(6);
SELECT * FROM regress_state;

-- a queued deployment was planned from patch 0
INSERT INTO zerodown.deployments (target) VALUES (3);
SELECT zd_baseline(2);
DELETE FROM zerodown.deployments;

-- only deployers adopt
CREATE ROLE regress_bl_nobody;
SET ROLE regress_bl_nobody;
SELECT zd_baseline(2);
RESET ROLE;
DROP ROLE regress_bl_nobody;

-- a deployer adopts 1 and 2: nothing runs (the tables exist, a build would
-- fail)
CREATE ROLE regress_bl_deployer IN ROLE zerodown_deployer;
SET ROLE regress_bl_deployer;
SELECT zd_baseline(2);
RESET ROLE;
SELECT * FROM regress_state;
SELECT number, role FROM zerodown.history ORDER BY id;
SELECT number, name, applied, drift FROM zerodown.status ORDER BY number;

-- the same baseline again does nothing; another one is refused
SELECT zd_baseline(2);
SELECT zd_baseline(1);
SELECT zd_baseline(3);
SELECT * FROM regress_state;

-- from there, zerodown aligns as usual: up runs 3 only, down runs the
-- adopted patches' rollbacks
SELECT zd_register(5, 'gap', 'SELECT 1', 'SELECT 1');
SELECT zd_register(4, 'add_bl_accounts_name', 'ALTER TABLE bl_accounts ADD COLUMN name text',
                   'ALTER TABLE bl_accounts DROP COLUMN name');
SELECT zd_align(3);
SELECT * FROM regress_state;
SELECT zd_align(0);
SELECT * FROM regress_state;
SELECT to_regclass('bl_accounts') IS NULL AS accounts_dropped;

-- an applied patch with another number is refused
SELECT zd_align(1);
SELECT zd_baseline(2);
SELECT * FROM regress_state;

DROP VIEW regress_state;
SELECT zd_align(0);
DROP EXTENSION zerodown;
DROP ROLE regress_bl_deployer;
