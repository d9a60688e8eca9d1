SELECT zd_abort('users', 'addresses');
DROP TABLE addresses;
