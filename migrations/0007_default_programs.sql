-- Data migration (drizzle-kit generate --custom): each existing installation gets its default
-- program, and every program-scoped row names it, before 0008 makes program_id required.
INSERT INTO `programs` (`id`, `installation_id`, `is_default`, `created_at`)
  SELECT 'prg_' || lower(hex(randomblob(10))), `id`, 1, `created_at` FROM `installations`;--> statement-breakpoint
UPDATE `program_versions` SET `program_id` = (SELECT `p`.`id` FROM `programs` `p` WHERE `p`.`installation_id` = `program_versions`.`installation_id` AND `p`.`is_default` = 1);--> statement-breakpoint
UPDATE `referrals` SET `program_id` = (SELECT `p`.`id` FROM `programs` `p` WHERE `p`.`installation_id` = `referrals`.`installation_id` AND `p`.`is_default` = 1);--> statement-breakpoint
UPDATE `rewards` SET `program_id` = (SELECT `p`.`id` FROM `programs` `p` WHERE `p`.`installation_id` = `rewards`.`installation_id` AND `p`.`is_default` = 1);
