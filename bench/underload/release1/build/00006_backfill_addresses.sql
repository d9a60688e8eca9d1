-- zerodown:no-transaction
CALL zd_backfill('users', 'addresses', batch_size => 1000, pause_ms => 10);
