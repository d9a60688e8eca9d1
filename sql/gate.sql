-- The deployment gate, as one session sees it (the concurrent sequences are
-- in test/specs/gate_*.spec and test/t/020_worker_deploy.pl)
CREATE EXTENSION zerodown;

-- open, with nobody holding or waiting
SELECT state, deployer_pid IS NULL AS no_deployer, running_jobs, waiting_jobs
  FROM zd_gate_status();

-- a managed job holds the gate shared; nested begins only count
SELECT zd_job_begin('nightly_load');
SELECT zd_job_begin('nightly_load');
SELECT job, status, pid = pg_backend_pid() AS me FROM zerodown.gate_jobs ORDER BY pid;
SELECT state, running_jobs, waiting_jobs FROM zd_gate_status();
-- a job cannot close the gate it holds open
SELECT zd_gate_close(10);
\echo SQLSTATE :SQLSTATE
SELECT zd_job_end();
SELECT count(*) AS jobs_after_one_end FROM zerodown.gate_jobs;
SELECT zd_job_end();
SELECT count(*) AS jobs_after_two_ends FROM zerodown.gate_jobs;

-- zd_job_end without a job
SELECT zd_job_end();
\echo SQLSTATE :SQLSTATE

-- a NULL job name
SELECT zd_job_begin(NULL);
\echo SQLSTATE :SQLSTATE

-- the deployer closes and opens the gate
SELECT zd_gate_close(1000);
SELECT state, deployer_pid = pg_backend_pid() AS me FROM zd_gate_status();
-- closing twice is harmless
SELECT zd_gate_close(1000);
-- the deployer cannot start a job while it holds the gate
SELECT zd_job_begin('etl');
\echo SQLSTATE :SQLSTATE
SELECT zd_gate_open();
SELECT state FROM zd_gate_status();

-- opening a gate this session does not hold
SELECT zd_gate_open();
\echo SQLSTATE :SQLSTATE

-- negative timeout
SELECT zd_gate_close(-1);
\echo SQLSTATE :SQLSTATE

-- zerodown.managed: each transaction holds the gate shared until it ends
SET zerodown.managed = on;
BEGIN;
SELECT 1 AS managed_statement;
SELECT job, status FROM zerodown.gate_jobs WHERE pid = pg_backend_pid();
COMMIT;
SELECT count(*) AS held_after_commit FROM zerodown.gate_jobs
 WHERE pid = pg_backend_pid() AND job <> 'managed transaction';
RESET zerodown.managed;

-- settings have units and bounds
SET zerodown.gate_timeout = -1;
SET zerodown.gate_timeout = '2s';
SHOW zerodown.gate_timeout;
RESET zerodown.gate_timeout;

-- deploying needs the worker's database; this one is not zerodown.database
SELECT zd_deploy(0);
\echo SQLSTATE :SQLSTATE
SELECT zd_deploy_wait(NULL);
\echo SQLSTATE :SQLSTATE
SELECT zd_deploy_wait(1, -5);
\echo SQLSTATE :SQLSTATE
SELECT zd_deploy_wait(424242, 10);
\echo SQLSTATE :SQLSTATE
SELECT zd_deploy_cancel(424242);
\echo SQLSTATE :SQLSTATE

DROP EXTENSION zerodown;
