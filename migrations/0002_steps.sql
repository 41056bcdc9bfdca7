ALTER TABLE `executions` ADD `steps` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `resume` text;