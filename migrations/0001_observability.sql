CREATE TABLE `alert_state` (
	`target_id` text NOT NULL,
	`flow_id` text NOT NULL,
	`kind` text NOT NULL,
	`active` integer DEFAULT false NOT NULL,
	`last_sent_at` integer,
	`pending` integer DEFAULT 0 NOT NULL,
	`cursor` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`target_id`, `flow_id`, `kind`),
	FOREIGN KEY (`target_id`) REFERENCES `alert_targets`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `alert_targets` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`format` text NOT NULL,
	`flow_id` text,
	`events` text,
	`thresholds` text NOT NULL,
	`sealed_secret` text,
	`origin` text NOT NULL,
	`last_delivery` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`flow_id`) REFERENCES `flows`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `failure_events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`flow_id` text NOT NULL,
	`execution_id` text NOT NULL,
	`at` integer NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `failure_events_flow_seq` ON `failure_events` (`flow_id`,`seq`);--> statement-breakpoint
CREATE INDEX `failure_events_at` ON `failure_events` (`at`);--> statement-breakpoint
CREATE TABLE `flow_totals` (
	`flow_id` text PRIMARY KEY NOT NULL,
	`received` integer DEFAULT 0 NOT NULL,
	`succeeded` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	`queued` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`flow_id` text NOT NULL,
	`mode` text NOT NULL,
	`filters` text NOT NULL,
	`state` text NOT NULL,
	`total` integer NOT NULL,
	`done` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`cursor` text,
	`error` text,
	`finished_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`flow_id`) REFERENCES `flows`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `replays` (
	`execution_id` text PRIMARY KEY NOT NULL,
	`replay_of` text NOT NULL,
	`job_id` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `replays_replay_of` ON `replays` (`replay_of`);--> statement-breakpoint
CREATE TABLE `stats_latency` (
	`flow_id` text NOT NULL,
	`minute` integer NOT NULL,
	`bin` integer NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`flow_id`, `minute`, `bin`)
);
--> statement-breakpoint
CREATE INDEX `stats_latency_minute` ON `stats_latency` (`minute`);--> statement-breakpoint
CREATE TABLE `stats_minutes` (
	`flow_id` text NOT NULL,
	`minute` integer NOT NULL,
	`received` integer DEFAULT 0 NOT NULL,
	`succeeded` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	`queued` integer,
	PRIMARY KEY(`flow_id`, `minute`)
);
--> statement-breakpoint
CREATE INDEX `stats_minutes_minute` ON `stats_minutes` (`minute`);--> statement-breakpoint
CREATE INDEX `executions_flow_status_received` ON `executions` (`flow_id`,`status`,`received_at`);--> statement-breakpoint
CREATE INDEX `executions_flow_version_received` ON `executions` (`flow_id`,`version`,`received_at`);