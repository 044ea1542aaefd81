ALTER TABLE `rewards` ADD `referrer_tier` text;--> statement-breakpoint
-- Until now a referrer's tier could only be set at creation, so its tier today is the one every past reward was earned under.
UPDATE `rewards` SET `referrer_tier` = (SELECT `tier` FROM `referrers` WHERE `referrers`.`id` = `rewards`.`referrer_id`);
