/* zerodown--0.1.0--0.2.0.sql: built by the Makefile from the parts in updates/0.2.0, in name order */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION zerodown UPDATE TO '0.2.0'" to load this file. \quit
