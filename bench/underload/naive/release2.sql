-- version 1 is retired: the seed's last step, and the triggers
DROP TRIGGER create_addresses_trigger ON users;
DROP TRIGGER update_addresses_trigger ON users;
DROP TRIGGER user_delete_addresses_trigger ON users;
ALTER TABLE users
      DROP COLUMN address_line_1,
      DROP COLUMN address_line_2;
