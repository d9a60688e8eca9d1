-- version 1 is retired: the triggers and users' address columns go
SELECT zd_contract('users', 'addresses');
